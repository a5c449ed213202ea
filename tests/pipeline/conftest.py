import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from frameforge_core import layout
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.resources import FrameStore, LocalFrameStore


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
