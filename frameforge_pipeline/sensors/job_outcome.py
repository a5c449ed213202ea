"""Runs of extract_video that end -> the job row and the event that tells the user.

``job_outcome_reconciliation`` catches what a failed reaction missed.

The row (status, frame count, error, run id, processing time) and the outbox message
``video.job.completed`` / ``video.job.failed`` are committed together; the outbox relay
sends the message, retrying until the broker takes it (Dagster does not re-run a sensor
reaction that failed, the outbox does). A cancelled job is not announced: its user asked.
"""

import datetime as dt

import dagster as dg
from sqlalchemy import select

from frameforge_core import lifecycle
from frameforge_core.lifecycle import JobStatus
from frameforge_core.models import VideoJob, utcnow
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.jobs import extract_video
from frameforge_pipeline.resources import AppDatabase

RECONCILE_AFTER = dt.timedelta(minutes=1)
BATCH = 100


def record_outcome(instance: dg.DagsterInstance, run: dg.DagsterRun, database: AppDatabase) -> None:
    job_id = run.tags.get(job_runs.JOB_ID_TAG)
    if job_id is None:  # a run launched by hand in the UI
        return
    settled = job_runs.settled(instance, run)
    if settled is None:  # Dagster retries it (or has not decided: reconciliation looks again)
        return
    outcome = job_runs.outcome(instance, settled).to_outcome()
    attempt = int(run.tags.get(job_runs.ATTEMPT_TAG, "0"))
    with database.session() as session:
        lifecycle.record_outcome(session, job_id, attempt, outcome)


def _on(status: dg.DagsterRunStatus, name: str) -> dg.RunStatusSensorDefinition:
    @dg.run_status_sensor(
        name=name,
        run_status=status,
        monitored_jobs=[extract_video],
        minimum_interval_seconds=1,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: dg.RunStatusSensorContext, database: AppDatabase) -> None:
        record_outcome(context.instance, context.dagster_run, database)

    return _sensor


job_completed = _on(dg.DagsterRunStatus.SUCCESS, "job_completed")
job_failed = _on(dg.DagsterRunStatus.FAILURE, "job_failed")
job_cancelled = _on(dg.DagsterRunStatus.CANCELED, "job_cancelled")


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records the outcome of runs whose run-status sensor reaction failed (Dagster "
    "moves past a failed reaction): submitted jobs whose run has ended.",
)
def job_outcome_reconciliation(
    context: dg.SensorEvaluationContext, database: AppDatabase
) -> dg.SkipReason:
    with database.session() as session:
        submitted = session.scalars(
            select(VideoJob)
            .where(
                VideoJob.status == JobStatus.SUBMITTED,
                VideoJob.updated_at < utcnow() - RECONCILE_AFTER,
            )
            .order_by(VideoJob.seq)
            .limit(BATCH)
        ).all()
    recorded = 0
    for job in submitted:
        run = job_runs.current_run(context.instance, job)
        if run is not None and run.is_finished and job_runs.settled(context.instance, run, 0):
            record_outcome(context.instance, run, database)
            recorded += 1
    return dg.SkipReason(f"{recorded} missed outcomes recorded of {len(submitted)} checked")
