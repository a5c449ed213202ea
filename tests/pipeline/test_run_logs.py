"""Runs log JSON lines (frameforge_pipeline/loggers.py): Dagster's events and the assets'
messages, with the run's ids and the job's trace id, whichever way the run was asked for."""

import json
import os
import shutil
import signal
import stat
import time

import dagster as dg
import pytest
from sqlalchemy import select

from frameforge_core.models import VideoJob
from frameforge_pipeline.loggers import RUN_LOGGERS, console_logger
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

    entries = _log_of_a_failed_run(defs, instance, "vid-missing", capfd)
    [failure] = [e for e in entries if e["context"].get("event") == "STEP_FAILURE"]
    assert failure["level"] == "error"
    assert "vid-missing" in failure["context"]["error"]  # the error names what was missing


def test_a_rejected_video_is_one_warning_with_its_reason(
    tmp_path, database, instance, storage, defs, capfd, slow_tail
):
    """The user's input, not an outage: one warning line naming the reason, no stack trace,
    and no error line (an operator's alert on errors would fire for every bad upload)."""
    add_job(database, "vid-junk", status="queued")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video\n" * 1000)
    upload(storage, "vid-junk", junk)
    instance.add_dynamic_partitions(VIDEOS, ["vid-junk"])
    capfd.readouterr()

    entries = _log_of_a_failed_run(defs, instance, "vid-junk", capfd)
    reason = "video rejected: not a video file: no known media container was found"
    [warning] = [e for e in entries if e["level"] in ("warning", "error")]
    assert warning["level"] == "warning"
    assert warning["message"] == reason
    assert warning["context"]["event"] == "STEP_FAILURE"
    [end] = [e for e in entries if e["context"].get("event") == "RUN_FAILURE"]
    assert end["level"] == "info"
    assert end["message"].endswith(reason)
    assert not any("error" in e["context"] for e in entries)  # no stack trace


def _log_of_a_failed_run(defs, instance, partition_key: str, capfd) -> list[dict]:
    """The lines a run of the video ``partition_key`` writes to stderr; the run fails."""
    result = defs.resolve_job_def("extract_video").execute_in_process(
        partition_key=partition_key, instance=instance, raise_on_error=False
    )
    assert not result.success
    return [json.loads(line) for line in capfd.readouterr().err.splitlines()]


@dg.op
def cancelled_while_working(context: dg.OpExecutionContext) -> None:
    """What a cancel does to a run: marks it canceling, then interrupts its process."""
    context.instance.report_run_canceling(context.run)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(60)  # interrupted long before


@dg.op(ins={"after": dg.In(dg.Nothing)})
def next_step() -> None:
    pass


@dg.op
def failing() -> None:
    raise RuntimeError("disk on fire")


@dg.job(logger_defs={"console": console_logger})
def cancelled_job() -> None:
    next_step(after=cancelled_while_working())


@dg.job(logger_defs={"console": console_logger})
def failing_job() -> None:
    failing()


def test_a_cancel_is_one_info_line_without_a_stack_trace(instance, capfd):
    result = cancelled_job.execute_in_process(
        instance=instance, run_config=RUN_LOGGERS, raise_on_error=False
    )

    assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.CANCELED
    entries = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
    assert not any(e["level"] in ("warning", "error") for e in entries)
    [canceled] = [e for e in entries if e["context"].get("event") == "RUN_CANCELED"]
    assert canceled["level"] == "info"
    [stopped] = [e for e in entries if e["context"].get("event") == "STEP_FAILURE"]
    assert stopped["level"] == "debug"
    assert stopped["message"] == 'step "cancelled_while_working" interrupted'
    assert not any("error" in e["context"] for e in entries)  # no stack trace


def test_an_unexpected_failure_stays_an_error_with_its_error(instance, capfd):
    result = failing_job.execute_in_process(
        instance=instance, run_config=RUN_LOGGERS, raise_on_error=False
    )

    assert not result.success
    entries = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
    failures = [e for e in entries if e["context"].get("event") in ("STEP_FAILURE", "RUN_FAILURE")]
    assert [e["level"] for e in failures] == ["error", "error"]
    assert all("disk on fire" in e["context"]["error"] for e in failures)
