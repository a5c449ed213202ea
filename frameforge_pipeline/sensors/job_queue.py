"""Jobs -> a partition per video and one run per job attempt.

Where jobs come from depends on the configuration:

- embedded default: the app database is the queue; every ``queued`` row is offered.
- production: ``video.processing.jobs`` on RabbitMQ. A message is acknowledged only once the
  run of its job attempt exists in the instance, i.e. on the tick after the one that asked for
  the run; until then it goes back to the queue when the tick's channel closes. Malformed
  messages and unknown jobs go to the dead-letter queue with the reason. Rows still queued
  after ``STALE_AFTER`` (a message expired or lost with a broker) are offered as well.

``run_key`` = job id + attempt and a look-up of the attempt's run make every path
idempotent: a job gets exactly one run per attempt, however often it is offered. A job is
marked ``submitted`` only once its run exists. A retried attempt selects only the assets the
previous attempt did not materialize: it resumes from the failure.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from frameforge_core import messaging
from frameforge_core.messaging import JobMessage
from frameforge_core.models import VideoJob, utcnow
from frameforge_pipeline import job_runs
from frameforge_pipeline.jobs import extract_video
from frameforge_pipeline.partitions import VIDEOS, videos
from frameforge_pipeline.resources import AppDatabase, MessageBroker

BATCH = 50
STALE_AFTER = dt.timedelta(minutes=15)


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


class _Submissions:
    """The run requests of one evaluation, at most one per job attempt."""

    def __init__(self, instance: dg.DagsterInstance, session: Session):
        self.instance, self.session = instance, session
        self.requests: dict[str, dg.RunRequest] = {}
        self.new_partitions: set[str] = set()

    def offer(self, job: VideoJob, attempt: int) -> bool:
        """Ask for the run of ``attempt`` of ``job`` if it needs one. True when the job
        needs nothing more: its run exists, or the attempt is superseded or cancelled."""
        if attempt != job.attempt or job.status != "queued":
            return True
        if job_runs.attempt_run(self.instance, job.id, job.attempt) is not None:
            self.session.execute(  # unless a cancel or an outcome came first
                update(VideoJob)
                .where(VideoJob.seq == job.seq, VideoJob.status == "queued")
                .values(status="submitted")
            )
            return True
        request = run_request(self.instance, job)
        assert request.run_key is not None
        if request.run_key not in self.requests:
            self.requests[request.run_key] = request
            if not self.instance.has_dynamic_partition(VIDEOS, job.video_id):
                self.new_partitions.add(job.video_id)
        return False

    def offer_queued_rows(self, queued_before: dt.datetime | None = None) -> None:
        query = select(VideoJob).where(VideoJob.status == "queued")
        if queued_before is not None:
            query = query.where(VideoJob.updated_at < queued_before)
        for job in self.session.scalars(query.order_by(VideoJob.seq).limit(BATCH)):
            self.offer(job, job.attempt)

    def result(self) -> dg.SensorResult:
        self.session.commit()
        partitions = sorted(self.new_partitions)
        return dg.SensorResult(
            run_requests=list(self.requests.values()),
            dynamic_partitions_requests=[videos.build_add_request(partitions)]
            if partitions
            else [],
        )


def _take_messages(channel: BlockingChannel, submissions: _Submissions) -> None:
    """Offer up to BATCH messages' jobs; ack what is settled, dead-letter what is not a job.
    Messages left unacknowledged return to the queue when the channel closes."""
    for _ in range(BATCH):
        method, properties, body = channel.basic_get(messaging.JOBS_QUEUE, auto_ack=False)
        if method is None:
            return
        try:
            message = JobMessage.from_bytes(body)
            job = submissions.session.scalar(select(VideoJob).where(VideoJob.id == message.job_id))
            if job is None:
                raise ValueError(f"no job {message.job_id}")
        except ValueError as error:
            messaging.dead_letter(
                channel, messaging.JOBS_DLQ, method.routing_key, properties, body, str(error)
            )
            channel.basic_ack(method.delivery_tag)
            continue
        if submissions.offer(job, message.attempt):
            channel.basic_ack(method.delivery_tag)


@dg.sensor(
    job=extract_video,
    minimum_interval_seconds=1,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns queued jobs (RabbitMQ messages, or app database rows in the embedded "
    "default) into runs of extract_video, one per job attempt.",
)
def job_queue(
    context: dg.SensorEvaluationContext, database: AppDatabase, broker: MessageBroker
) -> dg.SensorResult:
    with database.session() as session:
        submissions = _Submissions(context.instance, session)
        if broker.url is None:
            submissions.offer_queued_rows()
        else:
            try:
                with broker.channel() as channel:
                    _take_messages(channel, submissions)
            except AMQPError as error:  # the stale rows still get their runs
                context.log.warning(f"RabbitMQ failed: {error!r}")
            submissions.offer_queued_rows(queued_before=utcnow() - STALE_AFTER)
        return submissions.result()
