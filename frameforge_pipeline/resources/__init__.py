"""Resources bound by environment: the embedded default binds local implementations.

Every secret is bound with ``dg.EnvVar``: resolved in the process that uses it, shown by
the Dagster UI as the variable's name only.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from frameforge_core.settings import BrokerSettings, DatabaseSettings, StoreSettings
from frameforge_pipeline.resources.database import AppDatabase
from frameforge_pipeline.resources.job_queue import JobQueue
from frameforge_pipeline.resources.s3_storage import S3FrameStore
from frameforge_pipeline.resources.storage import FrameStore, LocalFrameStore

__all__ = [
    "AppDatabase",
    "FrameStore",
    "JobQueue",
    "LocalFrameStore",
    "S3FrameStore",
    "resources_for_environment",
    "storage_for",
]


def storage_for(settings: StoreSettings) -> FrameStore:
    """S3 when ``S3_RESULTS_BUCKET`` names a bucket, else the data dir's store."""
    if settings.s3_results_bucket is None:
        return LocalFrameStore(root=str(settings.store_root))
    return S3FrameStore(
        uploads_bucket=settings.s3_uploads_bucket or settings.s3_results_bucket,
        results_bucket=settings.s3_results_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.aws_default_region,
    )


def resources_for_environment() -> dict[str, Any]:
    """The store, the app database and the job queue the environment names (README)."""
    database = DatabaseSettings()
    broker = BrokerSettings()
    return {
        "storage": storage_for(StoreSettings()),
        "database": AppDatabase(
            url=dg.EnvVar("DATABASE_URL") if database.from_environment else database.url
        ),
        "jobs": JobQueue(rabbitmq_url=dg.EnvVar("RABBITMQ_URL") if broker.url else None),
    }
