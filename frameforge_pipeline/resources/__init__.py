"""Resources bound by environment: the embedded default binds local implementations.

Every secret is bound with ``dg.EnvVar``: resolved in the process that uses it, shown by
the Dagster UI as the variable's name only.

With S3, what assets hand each other (facts, the extraction result, the manifest) goes
through an S3 IO manager too: on Kubernetes every run is a fresh pod, and a retry from
failure must find the outputs of the steps it does not run again. Locally they stay in the
Dagster instance's storage dir.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dagster as dg

from frameforge_core.logs import warn_of_former_names
from frameforge_core.settings import (
    BrokerSettings,
    DatabaseSettings,
    JobQuotaSettings,
    OperationsSettings,
    PictureLimitSettings,
    StoreSettings,
)
from frameforge_pipeline.resources.database import AppDatabase
from frameforge_pipeline.resources.job_queue import JobQueue
from frameforge_pipeline.resources.limits import ExtractionLimits
from frameforge_pipeline.resources.storage import FrameStore, LocalFrameStore

if TYPE_CHECKING:
    from frameforge_pipeline.resources.s3_storage import S3FrameStore

__all__ = [
    "AppDatabase",
    "ExtractionLimits",
    "FrameStore",
    "JobQueue",
    "LocalFrameStore",
    "S3FrameStore",
    "resources_for_environment",
    "storage_for",
]


def storage_for(settings: StoreSettings) -> FrameStore:
    """S3 when ``FRAMEFORGE_S3_RESULTS_BUCKET`` names a bucket, else the data dir's store."""
    if settings.s3_results_bucket is None:
        return LocalFrameStore(root=str(settings.store_root))
    from frameforge_pipeline.resources.s3_storage import S3FrameStore  # boto3: only with S3

    return S3FrameStore(
        uploads_bucket=settings.s3_uploads_bucket or settings.s3_results_bucket,
        results_bucket=settings.s3_results_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.aws_default_region,
    )


def __getattr__(name: str) -> Any:
    """``S3FrameStore`` on first use: boto3 takes 0.1-0.3 s to import, and neither a run on
    the local store nor the daemon needs it."""
    if name == "S3FrameStore":
        from frameforge_pipeline.resources.s3_storage import S3FrameStore

        return S3FrameStore
    raise AttributeError(name)


IO_PREFIX = "dagster-io"  # in the results bucket, beside the frames and ZIPs


def resources_for_environment() -> dict[str, Any]:
    """The store, the app database, the job queue and the IO manager the environment names
    (docs/configuration.md), the operator's settings (``operations``, given to the sensors
    and schedules that need them) and a run's limits (``limits``, handed to the engine):
    read once, where the code location loads (which says if a former setting name is set)."""
    warn_of_former_names()
    database = DatabaseSettings()
    broker = BrokerSettings()
    store = StoreSettings()
    io: dict[str, Any] = {}
    if store.s3_results_bucket is not None:
        from dagster_aws.s3 import S3PickleIOManager, S3Resource  # 0.5 s: only when used

        s3 = S3Resource(endpoint_url=store.s3_endpoint_url, region_name=store.aws_default_region)
        io["io_manager"] = S3PickleIOManager(
            s3_resource=s3, s3_bucket=store.s3_results_bucket, s3_prefix=IO_PREFIX
        )
    return {
        **io,
        "storage": storage_for(store),
        "database": AppDatabase(
            url=dg.EnvVar("DATABASE_URL") if database.from_environment else database.url
        ),
        "jobs": JobQueue(
            rabbitmq_url=dg.EnvVar("RABBITMQ_URL") if broker.url else None,
            rabbitmq_prefix=broker.rabbitmq_prefix,
        ),
        "operations": OperationsSettings(),
        "limits": ExtractionLimits.from_settings(PictureLimitSettings(), JobQuotaSettings()),
    }
