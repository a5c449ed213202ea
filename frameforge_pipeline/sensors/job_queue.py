"""Queued jobs in the app database -> a partition per video and one run per job attempt.

``run_key`` = job id + attempt, so a job gets exactly one run per attempt however often the
sensor evaluates. A job is marked ``submitted`` only once its run exists in the instance; a
tick that dies before that is simply repeated. A retried attempt selects only the assets the
previous attempt did not materialize: it resumes from the failure.
"""

from typing import Any

import dagster as dg
from sqlalchemy import select, update

from frameforge_core.models import VideoJob
from frameforge_pipeline import job_runs
from frameforge_pipeline.jobs import extract_video
from frameforge_pipeline.partitions import VIDEOS, videos
from frameforge_pipeline.resources import AppDatabase

BATCH = 50


def run_request(instance: dg.DagsterInstance, job: VideoJob) -> dg.RunRequest:
    tags = {job_runs.JOB_ID_TAG: job.id, job_runs.ATTEMPT_TAG: str(job.attempt)}
    if job.trace_id:
        tags[job_runs.TRACE_ID_TAG] = job.trace_id
    remaining = list(job_runs.STEPS)
    previous = job_runs.attempt_run(instance, job.id, job.attempt - 1) if job.attempt else None
    if previous is not None:
        done = job_runs.materialized(instance, previous.run_id)
        remaining = [step for step in job_runs.STEPS if step not in done] or remaining
        tags |= {"dagster/parent_run_id": previous.run_id}
    config: dict[str, Any] = {}
    if "frames" in remaining:
        config = {"ops": {"frames": {"config": job.options}}}
    return dg.RunRequest(
        run_key=f"{job.id}:{job.attempt}",
        partition_key=job.video_id,
        run_config=config,
        tags=tags,
        asset_selection=[dg.AssetKey(step) for step in remaining],
    )


@dg.sensor(
    job=extract_video,
    minimum_interval_seconds=1,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns queued API jobs into runs of extract_video, one per job attempt.",
)
def job_queue(context: dg.SensorEvaluationContext, database: AppDatabase) -> dg.SensorResult:
    instance = context.instance
    requests, new_partitions = [], set()
    with database.session() as session:
        queued = session.scalars(
            select(VideoJob).where(VideoJob.status == "queued").order_by(VideoJob.seq).limit(BATCH)
        ).all()
        for job in queued:
            if job_runs.attempt_run(instance, job.id, job.attempt) is not None:
                # its run exists: stop offering it (unless a cancel or an outcome came first)
                session.execute(
                    update(VideoJob)
                    .where(VideoJob.seq == job.seq, VideoJob.status == "queued")
                    .values(status="submitted")
                )
                continue
            if not instance.has_dynamic_partition(VIDEOS, job.video_id):
                new_partitions.add(job.video_id)
            requests.append(run_request(instance, job))
        session.commit()
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[videos.build_add_request(sorted(new_partitions))]
        if new_partitions
        else [],
    )
