"""What the worker raises, as a small tree its loops can tell apart."""

from __future__ import annotations


class WorkerError(Exception):
    """Base of the worker's own exceptions."""


class UnknownJob(WorkerError, LookupError):
    """A message names a job the database does not have (deleted, or another database).
    Retrying cannot help: the message is dead-lettered."""


class DeliveryError(WorkerError):
    """One delivery attempt on one channel failed. ``permanent`` failures (a refused
    callback address, an SMTP 5xx reply) are not retried: the next attempt would fail too."""

    def __init__(self, detail: str, permanent: bool = False):
        super().__init__(detail)
        self.permanent = permanent
