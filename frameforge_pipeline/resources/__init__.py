"""Resources bound by environment: the embedded default binds local implementations."""

from __future__ import annotations

import os
from typing import Any

from frameforge_core.database import database_url
from frameforge_core.settings import store_root
from frameforge_pipeline.resources.broker import MessageBroker
from frameforge_pipeline.resources.database import AppDatabase
from frameforge_pipeline.resources.s3_storage import S3FrameStore
from frameforge_pipeline.resources.storage import FrameStore, LocalFrameStore

__all__ = [
    "AppDatabase",
    "FrameStore",
    "LocalFrameStore",
    "MessageBroker",
    "S3FrameStore",
    "resources_for_environment",
]


def resources_for_environment() -> dict[str, Any]:
    """The local store unless S3_RESULTS_BUCKET names S3 buckets; RabbitMQ when RABBITMQ_URL
    is set (see the README)."""
    storage: FrameStore = LocalFrameStore(root=str(store_root()))
    if results_bucket := os.environ.get("S3_RESULTS_BUCKET"):
        storage = S3FrameStore(
            uploads_bucket=os.environ.get("S3_UPLOADS_BUCKET", results_bucket),
            results_bucket=results_bucket,
            endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
            region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        )
    return {
        "storage": storage,
        "database": AppDatabase(url=database_url()),
        "broker": MessageBroker(url=os.environ.get("RABBITMQ_URL") or None),
    }
