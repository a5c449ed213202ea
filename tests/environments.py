"""Environments for FrameForge processes that tests start."""

import os
from pathlib import Path


def embedded(home: Path, **settings: str) -> dict[str, str]:
    """This environment without FrameForge's settings: the embedded default on ``home``, plus
    ``settings`` (e.g. ``FRAMEFORGE_LOG_FORMAT="json"``)."""
    ours = ("FRAMEFORGE_", "DAGSTER_", "DATABASE_URL", "RABBITMQ_URL", "REDIS_URL", "S3_", "SMTP_")
    kept = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return {**kept, "FRAMEFORGE_HOME": str(home), **settings}
