"""Jobs -> a partition per rendition (video x options) and one run per job attempt.

The job source (``frameforge_core.job_source``: the app database's queued rows, or RabbitMQ
messages) offers jobs; this sensor asks for the run each one needs and settles the offers
that need nothing more. ``run_key`` = job id + attempt and a look-up of the attempt's run
make every path idempotent: a job gets exactly one run per attempt, however often it is
offered. A job is marked ``submitted`` (with its run id) only once its run exists, so a
message is settled on the evaluation after the one that asked for the run. A retried attempt
selects only the assets the previous attempt did not materialize: it resumes from the failure.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from sqlalchemy.orm import Session

from frameforge_core import lifecycle
from frameforge_core.lifecycle import JobStatus
from frameforge_core.models import VideoJob
from frameforge_pipeline import segmenting
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.jobs import extract_video
from frameforge_pipeline.loggers import RUN_LOGGERS
from frameforge_pipeline.partitions import VIDEOS, videos
from frameforge_pipeline.resources import AppDatabase, JobQueue


def run_request(instance: dg.DagsterInstance, job: VideoJob) -> dg.RunRequest:
    tags = {
        job_runs.JOB_ID_TAG: job.id,
        job_runs.ATTEMPT_TAG: str(job.attempt),
        job_runs.USER_ID_TAG: job.user_id,
        job_runs.FILE_NAME_TAG: job.file_name[:255],  # even a run refused at once has it
    }
    if job.trace_id:
        tags[job_runs.TRACE_ID_TAG] = job.trace_id
    remaining = list(job_runs.STEPS)
    previous = job_runs.attempt_run(instance, job.id, job.attempt - 1) if job.attempt else None
    if previous is not None:
        done = job_runs.materialized(instance, previous.run_id)
        remaining = [step for step in job_runs.STEPS if step not in done] or remaining
        tags |= {"dagster/parent_run_id": previous.run_id}
    config: dict[str, Any] = dict(RUN_LOGGERS)
    if "frames" in remaining:
        config["ops"] = {"frames": {"config": job.options}}
        # a long video's segments side by side (processes here, pods where runs are pods);
        # else the default, every step in the run's process
        policy = segmenting.SegmentPolicy.from_environment()
        execution = policy.execution(job.video_seconds, _runs_on_kubernetes(instance))
        if "in_process" not in execution["config"]:
            config["execution"] = execution
    return dg.RunRequest(
        run_key=f"{job.id}:{job.attempt}",
        partition_key=job.partition_key,
        run_config=config,
        tags=tags,
        asset_selection=[dg.AssetKey(step) for step in remaining],
    )


def _runs_on_kubernetes(instance: dg.DagsterInstance) -> bool:
    """Whether runs are Kubernetes Jobs (the instance's run launcher is dagster-k8s's): read
    from the instance's settings, without making the launcher (and loading a cluster config)."""
    launcher = instance.get_ref().run_launcher_data
    return launcher is not None and launcher.module_name.startswith("dagster_k8s")


class _Submissions:
    """The run requests of one evaluation, at most one per job attempt."""

    def __init__(self, instance: dg.DagsterInstance, session: Session):
        self.instance, self.session = instance, session
        self.requests: dict[str, dg.RunRequest] = {}
        self.new_partitions: set[str] = set()

    def offer(self, job: VideoJob, attempt: int) -> bool:
        """Ask for the run of ``attempt`` of ``job`` if it needs one. True when the job
        needs nothing more: its run exists, or the attempt is superseded or cancelled."""
        if attempt != job.attempt or job.status != JobStatus.QUEUED:
            return True
        if (run := job_runs.attempt_run(self.instance, job.id, job.attempt)) is not None:
            lifecycle.mark_submitted(self.session, job, run.run_id)
            return True
        request = run_request(self.instance, job)
        assert request.run_key is not None
        if request.run_key not in self.requests:
            self.requests[request.run_key] = request
            if not self.instance.has_dynamic_partition(VIDEOS, job.partition_key):
                self.new_partitions.add(job.partition_key)
        return False

    def result(self) -> dg.SensorResult:
        self.session.commit()
        partitions = sorted(self.new_partitions)
        return dg.SensorResult(
            run_requests=list(self.requests.values()),
            dynamic_partitions_requests=[videos.build_add_request(partitions)]
            if partitions
            else [],
        )


@dg.sensor(
    job=extract_video,
    minimum_interval_seconds=1,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns queued jobs (RabbitMQ messages, or app database rows in the embedded "
    "default) into runs of extract_video, one per job attempt.",
)
def job_queue(
    context: dg.SensorEvaluationContext, database: AppDatabase, jobs: JobQueue
) -> dg.SensorResult:
    with database.session() as session:
        submissions = _Submissions(context.instance, session)
        with jobs.source().offers(session) as offers:
            for offer in offers:
                if submissions.offer(offer.job, offer.attempt):
                    offer.settle()
        return submissions.result()
