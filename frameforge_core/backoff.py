"""Backoff waits that a stop cuts short: what the worker's job sources and its notifier share
(a delivery retried later, a reconnect) without depending on each other."""

from __future__ import annotations

import threading
from collections.abc import Callable

Sleep = Callable[[float], None]


class Stopped(Exception):
    """The worker was asked to stop during a backoff wait. The message being handled is left
    unfinished: RabbitMQ redelivers it, the outbox row stays unsent."""


def stoppable_sleep(stop: threading.Event) -> Sleep:
    """A backoff wait that a stop cuts short (raising Stopped)."""

    def wait(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped

    return wait
