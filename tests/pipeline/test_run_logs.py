"""Runs log JSON lines (frameforge_pipeline/loggers.py): Dagster's events and the assets'
messages, with the run's ids and the job's trace id, whichever way the run was asked for."""

import json
import os
import shutil
import stat

import pytest
from sqlalchemy import select

from frameforge_core.models import VideoJob
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.sensors.job_queue import run_request
from tests.pipeline.conftest import add_job, upload


@pytest.fixture
def slow_tail(tmp_path, monkeypatch):
    """Dagster copies the steps' captured stderr back with ``tail -F``, which polls once a
    second and is stopped when the steps end: a loaded machine's tail, made certain here by
    one that starts 2 s late, would never copy the run's last lines."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tail = bin_dir / "tail"
    tail.write_text(f'#!/bin/sh\nsleep 2\nexec {shutil.which("tail")} "$@"\n')
    tail.chmod(tail.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


@pytest.mark.parametrize("asked_by", ["job queue sensor", "job default (launchpad)"])
def test_a_run_writes_one_json_object_per_line(
    asked_by, make_clip, defs, instance, storage, database, capfd, slow_tail
):
    job_id, _ = add_job(database, "vid-logs", status="queued")
    upload(storage, "vid-logs", make_clip("run-logs.mp4", seconds=2).path)
    instance.add_dynamic_partitions(VIDEOS, ["vid-logs"])
    with database.session() as session:
        job = session.scalars(select(VideoJob).where(VideoJob.id == job_id)).one()
        job.trace_id = "a" * 32
        request = run_request(instance, job)
    capfd.readouterr()

    result = defs.resolve_job_def("extract_video").execute_in_process(
        partition_key="vid-logs",
        instance=instance,
        run_config=request.run_config if asked_by == "job queue sensor" else None,
        tags=request.tags,
    )

    assert result.success
    lines = capfd.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert {entry["service"] for entry in entries} == {"run"}
    events = {entry["context"].get("event") for entry in entries}
    assert {"RUN_START", "STEP_START", "ASSET_MATERIALIZATION", "RUN_SUCCESS"} <= events
    assert {entry["context"]["runId"] for entry in entries} == {result.run_id}
    assert {entry["traceId"] for entry in entries} == {"a" * 32}  # from the run's tags
    assert not any("\x1b[" in line for line in lines)  # no colour codes


def test_a_failed_step_logs_its_error(defs, instance, storage, database, capfd, slow_tail):
    """The failure's line carries the error (the message alone says only which step), and
    reaches stderr however late Dagster's copy of the steps' output would."""
    add_job(database, "vid-missing", status="queued")  # no upload: the source is missing
    instance.add_dynamic_partitions(VIDEOS, ["vid-missing"])
    capfd.readouterr()

    result = defs.resolve_job_def("extract_video").execute_in_process(
        partition_key="vid-missing", instance=instance, raise_on_error=False
    )

    assert not result.success
    entries = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
    [failure] = [e for e in entries if e["context"].get("event") == "STEP_FAILURE"]
    assert failure["level"] == "error"
    assert "vid-missing" in failure["context"]["error"]  # the error names what was missing
