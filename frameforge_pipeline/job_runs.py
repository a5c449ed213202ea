"""What a job's Dagster runs say: status, progress, frame count, facts, failure reason.

Runs of a job carry the tag ``frameforge/job_id``; the API and the run-status sensor both
read a job's state through this module, from the instance, never from a guess of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dagster as dg

JOB_ID_TAG = "frameforge/job_id"
TRACE_ID_TAG = "frameforge/trace_id"
ATTEMPT_TAG = "frameforge/attempt"
STEPS = ("source_video", "frames", "manifest", "frames_zip", "frame_index")

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
    progress: float  # 0..1, assets materialized of the graph
    frame_count: int | None = None
    video: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    started_at: float | None = None  # unix time the run process started
    finished_at: float | None = None


def latest_run(instance: dg.DagsterInstance, job_id: str) -> dg.DagsterRun | None:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={JOB_ID_TAG: job_id}), limit=1)
    return runs[0] if runs else None


def outcome(instance: dg.DagsterInstance, run: dg.DagsterRun | None) -> RunOutcome:
    """The state of ``run``; a job with no run yet is queued."""
    if run is None:
        return RunOutcome(run_id=None, status="queued", progress=0.0)
    events = instance.all_logs(
        run.run_id,
        of_type={dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.STEP_FAILURE},
    )
    done: dict[str, dict[str, Any]] = {}
    error = None
    for entry in events:
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_FAILURE and error is None:
            error = failure_reason(event)
        elif event.asset_key is not None:
            metadata = event.step_materialization_data.materialization.metadata
            done[event.asset_key.to_user_string()] = {k: v.value for k, v in metadata.items()}
    status = _STATUS.get(run.status, "running")
    frame_count = done.get("manifest", {}).get("frame_count")
    record = instance.get_run_record_by_id(run.run_id)
    return RunOutcome(
        run_id=run.run_id,
        status=status,
        progress=1.0 if status == "completed" else len(done.keys() & set(STEPS)) / len(STEPS),
        frame_count=frame_count,
        video={k: v for k, v in done.get("source_video", {}).items() if k != "source"},
        error=error if status == "failed" else None,
        started_at=record.start_time if record else None,
        finished_at=record.end_time if record else None,
    )


def materialized(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    """The assets a run materialized."""
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    return {
        entry.dagster_event.asset_key.to_user_string()
        for entry in events
        if entry.dagster_event is not None and entry.dagster_event.asset_key is not None
    }


def failure_reason(event: dg.DagsterEvent) -> str:
    """What the user should read: a Failure's description, else the innermost error."""
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else "the run failed"
