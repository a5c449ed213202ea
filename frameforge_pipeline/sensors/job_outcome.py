"""Runs of extract_video that end -> the job row and the event that tells the user.

``job_outcome_reconciliation`` catches what a failed reaction missed, and a run that
Dagster marked for retry (``dagster/will_retry=true``) but never retried (the daemon lost it in
an outage) once ``FRAMEFORGE_RETRY_OVERDUE_SECONDS`` (5 min) have passed: that run is the job's
outcome, a failure its user is told of (email included) and may retry, and it no longer counts
as a running job.

Every run that ends, a job's or not, first loses its segments' progress rows in Dagster's
key-value store (``SegmentProgress``): nothing reads them once the run's tag has the total.

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
from frameforge_core.settings import OperationsSettings
from frameforge_pipeline import dagster_internals as internals
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


def _forget_progress(context: dg.RunStatusSensorContext) -> None:
    """Delete the run's segments' progress rows. A failure is logged and the outcome recorded
    all the same: a row left behind is a few bytes, an outcome not recorded a job lost."""
    run_id = context.dagster_run.run_id
    try:
        internals.delete_cursor_values(context.instance, job_runs.segment_progress_prefix(run_id))
    except Exception as error:
        context.log.warning(f"run {run_id}: its progress rows were not deleted: {error!r}")


def _on(status: dg.DagsterRunStatus, name: str) -> dg.RunStatusSensorDefinition:
    @dg.run_status_sensor(
        name=name,
        run_status=status,
        monitored_jobs=[extract_video],
        minimum_interval_seconds=1,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def _sensor(context: dg.RunStatusSensorContext, database: AppDatabase) -> None:
        _forget_progress(context)
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
    context: dg.SensorEvaluationContext,
    database: AppDatabase,
    operations: dg.ResourceParam[OperationsSettings],
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
    overdue_after = operations.retry_overdue_seconds
    recorded = given_up = 0
    for job in submitted:
        run = job_runs.current_run(context.instance, job)
        if run is not None and job_runs.retry_overdue(context.instance, run, overdue_after):
            context.log.warning(f"run {run.run_id} of job {job.id}: its retry never came")
            run = job_runs.give_up_retry(context.instance, run)
            given_up += 1
        if run is not None and run.is_finished and job_runs.settled(context.instance, run, 0):
            record_outcome(context.instance, run, database)
            recorded += 1
    said = f"{recorded} missed outcomes recorded of {len(submitted)} checked"
    return dg.SkipReason(f"{said} ({given_up} whose retry never came)" if given_up else said)
