"""What the worker raises, as a small tree its loops can tell apart."""

from __future__ import annotations


class WorkerError(Exception):
    """Base of the worker's own exceptions."""


class UnknownJob(WorkerError, LookupError):
    """A message names a job the database does not have (deleted, or another database).
    Retrying cannot help: the message is dead-lettered."""
