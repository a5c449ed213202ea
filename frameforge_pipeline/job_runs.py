"""What a job's Dagster runs say: status, progress, frame count, facts, failure reason.

Runs of a job carry the tags ``frameforge/job_id`` and ``frameforge/attempt``; the API and
the sensors read a job's state through this module, from the instance, never from a guess
of their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

JOB_ID_TAG = "frameforge/job_id"
TRACE_ID_TAG = "frameforge/trace_id"
ATTEMPT_TAG = "frameforge/attempt"
STEPS = ("source_video", "frames", "manifest", "frames_zip", "frame_index")
ENDED = ("completed", "failed", "cancelled")  # a job in these states changes only if asked
WILL_RETRY_TAG = "dagster/will_retry"  # on a failed run that the daemon is about to retry

_STATUS = {
    dg.DagsterRunStatus.QUEUED: "queued",
    dg.DagsterRunStatus.NOT_STARTED: "queued",
    dg.DagsterRunStatus.STARTING: "running",
    dg.DagsterRunStatus.STARTED: "running",
    dg.DagsterRunStatus.SUCCESS: "completed",
    dg.DagsterRunStatus.FAILURE: "failed",
    dg.DagsterRunStatus.CANCELING: "cancelled",
    dg.DagsterRunStatus.CANCELED: "cancelled",
}


@dataclass(frozen=True)
class RunOutcome:
    run_id: str | None
    status: str  # queued | running | completed | failed | cancelled
    progress: float  # 0..1: share of the asset graph made for this job
    frame_count: int | None = None
    video: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    started_at: float | None = None  # unix time the run process started
    finished_at: float | None = None


def attempt_run(instance: dg.DagsterInstance, job_id: str, attempt: int) -> dg.DagsterRun | None:
    """The run of one attempt of a job, once the sensor has had it created."""
    tags = {JOB_ID_TAG: job_id, ATTEMPT_TAG: str(attempt)}
    runs = instance.get_runs(filters=dg.RunsFilter(tags=tags), limit=1)
    return runs[0] if runs else None


def materialized(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    """The assets a run materialized."""
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    return {
        entry.dagster_event.asset_key.to_user_string()
        for entry in events
        if entry.dagster_event is not None and entry.dagster_event.asset_key is not None
    }


def run_status(run: dg.DagsterRun) -> str:
    """A run's status in the API's words. A failed run that Dagster retries (its process
    died) is still running, as far as the job is concerned."""
    if run.status == dg.DagsterRunStatus.FAILURE and will_retry(run):
        return "running"
    return _STATUS.get(run.status, "running")


def will_retry(run: dg.DagsterRun) -> bool:
    return run.tags.get(WILL_RETRY_TAG) == "true"


def settled(
    instance: dg.DagsterInstance, run: dg.DagsterRun, wait: float = 5.0
) -> dg.DagsterRun | None:
    """The run, once it is a job's outcome; None while Dagster retries it or, after ``wait``
    seconds, has still not said whether it will. (Dagster records a failure first and tags
    ``dagster/will_retry`` just after, so a sensor can see a failed run without the tag.)"""
    deadline = time.monotonic() + wait
    while (
        run.status == dg.DagsterRunStatus.FAILURE
        and instance.run_retries_enabled
        and WILL_RETRY_TAG not in run.tags
    ):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)
        run = instance.get_run_by_id(run.run_id) or run
    return None if will_retry(run) else run


def outcome(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunOutcome:
    """The state of a job's run. Facts and frame count come from the partition's latest
    materializations, so a retry that resumed after them still reports them."""
    status = run_status(run)
    selected = {key.to_user_string() for key in run.asset_selection or ()} or set(STEPS)
    made_before = len(set(STEPS) - selected)
    done = materialized(instance, run.run_id) & selected
    record = instance.get_run_record_by_id(run.run_id)
    partition = run.tags.get("dagster/partition")
    manifest = _latest_metadata(instance, "manifest", partition) if status == "completed" else {}
    return RunOutcome(
        run_id=run.run_id,
        status=status,
        progress=1.0 if status == "completed" else (made_before + len(done)) / len(STEPS),
        frame_count=manifest.get("frame_count"),
        video={
            k: v
            for k, v in _latest_metadata(instance, "source_video", partition).items()
            if k != "source"
        },
        error=user_error(instance, run) if status == "failed" else None,
        started_at=record.start_time if record else None,
        finished_at=record.end_time if record else None,
    )


def _latest_metadata(
    instance: dg.DagsterInstance, asset: str, partition: str | None
) -> dict[str, Any]:
    if partition is None:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]),
        limit=1,
    ).records
    if not records or records[0].asset_materialization is None:
        return {}
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def user_error(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    """What to tell the user: a rejection's reason, never an internal error's details."""
    failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    for entry in failures:
        event = entry.dagster_event
        if event is None:
            continue
        data = event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            return data.user_failure_data.description
        return (
            f"processing failed unexpectedly in step {event.step_key} (run {run.run_id}); "
            "retry the job, or contact support with this run id"
        )
    return f"the run failed (run {run.run_id})"


def failure_reason(event: dg.DagsterEvent) -> str:
    """What an operator should read: a Failure's description, else the innermost error."""
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else "the run failed"
