"""Runs in fresh pods: a retry after a failure in frames_zip, in a new process whose local
dirs are empty (as a new Kubernetes pod's are), loads what the earlier steps made from S3
(the S3 IO manager) and does not extract again."""

import json
import os
import shutil
import subprocess
import sys

from frameforge_core import layout
from frameforge_pipeline.engine.archive import zip_problems

# One step of the run in its own process, bound to the environment's resources, as a run
# pod is. FAIL_ZIP makes the store refuse the ZIP (a full disk, a bucket gone).
RUN = """
import json, os, sys
import dagster as dg
from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.resources import S3FrameStore, resources_for_environment

video_id, *selection = sys.argv[1:]
if os.environ.get("FAIL_ZIP"):
    real_open_write = S3FrameStore.open_write
    def refuse_zips(self, key):
        if key.endswith(".zip"):
            raise OSError(28, "No space left on device")
        return real_open_write(self, key)
    S3FrameStore.open_write = refuse_zips
job = build_definitions(resources_for_environment()).resolve_job_def("extract_video")
with dg.DagsterInstance.get() as instance:
    instance.add_dynamic_partitions("videos", [video_id])
    result = job.execute_in_process(
        partition_key=video_id, instance=instance, raise_on_error=False,
        asset_selection=[dg.AssetKey(step) for step in selection] or None,
    )
    started = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
print(json.dumps({"success": result.success, "steps": started}))
"""


def _run_in_a_new_process(env, cwd, video_id, *selection):
    done = subprocess.run(
        [sys.executable, "-c", RUN, video_id, *selection],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    print(done.stderr[-2000:])  # the run's log, shown when the test fails
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_retry_in_a_fresh_process_resumes_from_s3(s3_store, make_clip, tmp_path, database):
    video_id = "v-retry"
    with (
        s3_store.open_write(f"{layout.upload_prefix(video_id)}clip.mp4") as target,
        make_clip("cfr.mp4", seconds=5).path.open("rb") as source,
    ):
        shutil.copyfileobj(source, target)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster"),  # the instance: run records only
        "FRAMEFORGE_HOME": str(tmp_path / "pod"),
        "DATABASE_URL": database.url,  # the app database, where frames looks up the job
        "FRAMEFORGE_S3_RESULTS_BUCKET": s3_store.results_bucket,
        "FRAMEFORGE_S3_UPLOADS_BUCKET": s3_store.uploads_bucket,
        "FRAMEFORGE_S3_ENDPOINT_URL": s3_store.endpoint_url or "",
    }
    (tmp_path / "dagster").mkdir()
    first_pod = tmp_path / "first-pod"
    first_pod.mkdir()
    first = _run_in_a_new_process({**env, "FAIL_ZIP": "1"}, first_pod, video_id)
    assert not first["success"]
    assert "frames.join_frames" in first["steps"]  # the frames asset's last step

    for local in (first_pod, tmp_path / "pod", tmp_path / "dagster" / "storage"):
        shutil.rmtree(local, ignore_errors=True)  # the first pod and its disk are gone
    second_pod = tmp_path / "second-pod"
    second_pod.mkdir()
    retry = _run_in_a_new_process(env, second_pod, video_id, "frames_zip", "frame_index")
    assert retry["success"]
    assert {"frames_zip", "frame_index"} <= set(retry["steps"])
    made_again = {step.split(".")[0] for step in retry["steps"]}
    assert not {"source_video", "frames", "manifest"} & made_again  # not made again
    with s3_store.local_path(layout.zip_key(video_id)) as path, path.open("rb") as zip_file:
        assert zip_problems(zip_file) == []
    assert len(s3_store.list_keys(layout.frames_prefix(video_id))) == 5  # made once
    assert s3_store.list_keys("dagster-io/")  # what the steps handed each other


def test_the_embedded_default_keeps_step_outputs_on_the_local_disk(monkeypatch, tmp_path):
    from frameforge_pipeline.resources import resources_for_environment

    for name in ("FRAMEFORGE_S3_RESULTS_BUCKET", "S3_RESULTS_BUCKET"):  # either name sets it
        monkeypatch.delenv(name, raising=False)
    assert "io_manager" not in resources_for_environment()  # Dagster's own, on local disk
