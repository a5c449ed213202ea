"""Schedules, one module each."""
