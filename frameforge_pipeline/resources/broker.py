"""RabbitMQ as seen by sensors: a channel per evaluation, or nothing in the embedded default."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import dagster as dg
from pika.adapters.blocking_connection import BlockingChannel

from frameforge_core.messaging import connect


class MessageBroker(dg.ConfigurableResource):  # type: ignore[type-arg]
    """``url`` unset: the embedded default, where the app database is the job queue."""

    url: str | None = None

    @contextlib.contextmanager
    def channel(self) -> Iterator[BlockingChannel]:
        """A confirming channel on the declared topology. Closing it hands every message
        taken and not acknowledged back to its queue."""
        assert self.url, "no RABBITMQ_URL"
        connection, channel = connect(self.url)
        try:
            yield channel
        finally:
            if connection.is_open:
                connection.close()
