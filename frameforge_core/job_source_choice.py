"""Which job source a process uses (``frameforge_core.job_source``): RabbitMQ when a URL is
configured, else the app database. Above both implementations, so neither imports the other."""

from __future__ import annotations

from frameforge_core.job_source import DatabaseJobSource, JobSource


def job_source(rabbitmq_url: str | None, prefix: str = "") -> JobSource:
    """RabbitMQ when a URL is given (``BrokerSettings``: ``url`` and the deployment's name
    ``prefix``), else the app database."""
    if rabbitmq_url:
        from frameforge_core.messaging import Topology
        from frameforge_core.rabbitmq_source import RabbitMQJobSource  # pika: only with RabbitMQ

        return RabbitMQJobSource(rabbitmq_url, Topology(prefix))
    return DatabaseJobSource()
