import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from frameforge_core import layout
from frameforge_core.models import User, Video, VideoJob
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.resources import FrameStore, LocalFrameStore


def add_job(
    database: Any,
    video_id: str,
    file_name: str | None = None,
    status: str = "completed",
    **options: Any,
) -> tuple[str, str]:
    """A user, their video ``video_id`` and a job of it (partition key: the video id), as the
    API leaves them; (job id, user id)."""
    with database.session() as session:
        user = User(email=f"{video_id}@example.com", password_hash="x")
        session.add(user)
        session.flush()
        session.add(
            Video(
                id=video_id, user_id=user.id, filename=file_name or f"{video_id} holiday.mp4",
                content_type="video/mp4", storage_key=f"uploads/{video_id}/clip.mp4",
                max_bytes=10**8,
            )
        )  # fmt: skip
        job = VideoJob(
            user_id=user.id, video_id=video_id, partition_key=video_id, options=options,
            status=status,
        )  # fmt: skip
        session.add(job)
        session.commit()
        return job.id, user.id


def upload(storage: FrameStore, video_id: str, source: Path) -> None:
    with (
        source.open("rb") as data,
        storage.open_write(layout.upload_prefix(video_id) + source.name) as target,
    ):
        shutil.copyfileobj(data, target)


@pytest.fixture
def run_video(
    instance: dg.DagsterInstance, defs: dg.Definitions, storage: LocalFrameStore
) -> Callable[..., dg.ExecuteInProcessResult]:
    """Upload ``source`` as ``video_id`` and run the extract_video job for that partition."""

    def run(video_id: str, source: Path | None, **options: Any) -> dg.ExecuteInProcessResult:
        if source is not None:
            upload(storage, video_id, source)
        instance.add_dynamic_partitions(VIDEOS, [video_id])
        return defs.resolve_job_def("extract_video").execute_in_process(
            partition_key=video_id,
            instance=instance,
            raise_on_error=False,
            run_config={"ops": {"frames": {"config": options}}} if options else None,
        )

    return run
