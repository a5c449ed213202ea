"""Runs of extract_video that end -> the job row (status, frame count, error, run id).

The API reads live status from the instance; the row keeps the outcome for queries and
for the notifications that follow.
"""

import dagster as dg
from sqlalchemy import select

from frameforge_core.models import VideoJob
from frameforge_pipeline import job_runs
from frameforge_pipeline.jobs import extract_video
from frameforge_pipeline.resources import AppDatabase


def record_outcome(instance: dg.DagsterInstance, run: dg.DagsterRun, database: AppDatabase) -> None:
    job_id = run.tags.get(job_runs.JOB_ID_TAG)
    if job_id is None:  # a run launched by hand in the UI
        return
    outcome = job_runs.outcome(instance, run)
    with database.session() as session:
        job = session.scalar(select(VideoJob).where(VideoJob.id == job_id))
        if job is None or str(job.attempt) != run.tags.get(job_runs.ATTEMPT_TAG, "0"):
            return  # deleted, or superseded by a retry
        job.status = outcome.status
        job.run_id = run.run_id
        job.frame_count = outcome.frame_count
        job.error = outcome.error
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
