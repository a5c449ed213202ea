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

from frameforge_core import messaging, outbox
from frameforge_core.messaging import JobMessage
from frameforge_core.models import VideoJob, utcnow
from frameforge_pipeline import job_runs
from frameforge_pipeline.jobs import extract_video
from frameforge_pipeline.resources import AppDatabase

RECONCILE_AFTER = dt.timedelta(minutes=1)
BATCH = 100
_EVENTS = {"completed": messaging.JOB_COMPLETED, "failed": messaging.JOB_FAILED}


def record_outcome(instance: dg.DagsterInstance, run: dg.DagsterRun, database: AppDatabase) -> None:
    job_id = run.tags.get(job_runs.JOB_ID_TAG)
    if job_id is None:  # a run launched by hand in the UI
        return
    settled = job_runs.settled(instance, run)
    if settled is None:  # Dagster retries it (or has not decided: reconciliation looks again)
        return
    outcome = job_runs.outcome(instance, settled)
    with database.session() as session:
        job = session.scalar(select(VideoJob).where(VideoJob.id == job_id).with_for_update())
        if job is None or str(job.attempt) != run.tags.get(job_runs.ATTEMPT_TAG, "0"):
            return  # deleted, or superseded by a retry
        if job.status == "cancelled":
            return  # its user's cancel stands, even if the run got further
        if job.status == outcome.status and job.run_id == run.run_id:
            return  # recorded by an earlier evaluation
        job.status = outcome.status
        job.run_id = run.run_id
        job.frame_count = outcome.frame_count
        job.error = outcome.error
        job.processing_seconds = (
            outcome.finished_at - outcome.started_at
            if outcome.started_at is not None and outcome.finished_at is not None
            else None
        )
        if event := _EVENTS.get(outcome.status):
            details = (
                {"frameCount": outcome.frame_count}
                if outcome.status == "completed"
                else {"error": outcome.error}
            )
            message = JobMessage(
                job_id=job.id,
                video_id=job.video_id,
                user_id=job.user_id,
                event=event,
                attempt=job.attempt,
                details=details,
            )
            outbox.add(session, messaging.EVENTS_EXCHANGE, message, job.trace_id)
        session.commit()


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
            .where(VideoJob.status == "submitted", VideoJob.updated_at < utcnow() - RECONCILE_AFTER)
            .order_by(VideoJob.seq)
            .limit(BATCH)
        ).all()
    recorded = 0
    for job in submitted:
        run = job_runs.attempt_run(context.instance, job.id, job.attempt)
        if run is not None and run.is_finished and job_runs.settled(context.instance, run, 0):
            record_outcome(context.instance, run, database)
            recorded += 1
    return dg.SkipReason(f"{recorded} missed outcomes recorded of {len(submitted)} checked")
