"""The job source as the sensors see it: the app database, or RabbitMQ with ``rabbitmq_url``.

The URL (it holds a password) is bound with ``dg.EnvVar("RABBITMQ_URL")``, so the Dagster
UI shows the variable's name and never its value.
"""

from __future__ import annotations

import dagster as dg

from frameforge_core.job_source import JobSource
from frameforge_core.job_source_choice import job_source


class JobQueue(dg.ConfigurableResource):  # type: ignore[type-arg]
    rabbitmq_url: str | None = None  # unset: the embedded default, the app database
    rabbitmq_prefix: str = ""  # FRAMEFORGE_RABBITMQ_PREFIX: this deployment's names

    def source(self) -> JobSource:
        return job_source(self.rabbitmq_url, self.rabbitmq_prefix)
