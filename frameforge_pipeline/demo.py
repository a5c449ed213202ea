"""`frameforge demo`: one sample video through the whole asset graph on the embedded default."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path

import dagster as dg

from frameforge_core import layout
from frameforge_core.settings import ensure_dagster_home
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.resources import FrameStore
from frameforge_pipeline.samples import write_clip

SAMPLE_SECONDS = 10
SAMPLE_SIZE = (1280, 720)


def upload_sample(storage: FrameStore, video_id: str) -> str:
    """Generate a 10 s 720p H.264 clip and put it in the store as an upload."""
    key = layout.upload_prefix(video_id) + "sample.mp4"
    with tempfile.TemporaryDirectory(prefix="frameforge-demo-") as tmp:
        clip = Path(tmp) / "sample.mp4"
        write_clip(clip, seconds=SAMPLE_SECONDS, size=SAMPLE_SIZE)
        with clip.open("rb") as source, storage.open_write(key) as target:
            shutil.copyfileobj(source, target)
    return key


def run_demo() -> int:
    ensure_dagster_home()
    from frameforge_pipeline.definitions import defs  # after DAGSTER_HOME/FRAMEFORGE_HOME

    storage = (defs.resources or {})["storage"]
    assert isinstance(storage, FrameStore)
    video_id = f"demo-{uuid.uuid4().hex[:12]}"
    began = time.perf_counter()
    upload_sample(storage, video_id)
    width, height = SAMPLE_SIZE
    print(f"sample video  {SAMPLE_SECONDS} s {width}x{height} H.264, partition {video_id}")

    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions(VIDEOS, [video_id])
    run_began = time.perf_counter()
    result = defs.resolve_job_def("extract_video").execute_in_process(
        partition_key=video_id,
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    if not result.success:
        print(f"run {result.run_id} failed; see the Dagster UI (dagster dev) for its logs")
        return 1
    manifest = result.output_for_node("manifest")
    checks = [
        f"{check.check_name} {'passed' if check.passed else 'FAILED'}"
        for check in result.get_asset_check_evaluations()
    ]
    print(f"dagster run   {result.run_id} ({time.perf_counter() - run_began:.1f} s)")
    print(f"checks        {', '.join(sorted(checks))}")
    print(f"frames        {len(manifest['frames'])}")
    print(f"zip           {storage.uri(layout.zip_key(video_id))}")
    print(f"total         {time.perf_counter() - began:.1f} s")
    return 0
