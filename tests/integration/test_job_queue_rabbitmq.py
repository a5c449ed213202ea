"""The job_queue sensor on RabbitMQ, with the app database and the Dagster instance on
PostgreSQL: a job is acknowledged only once its run exists, and never run twice."""

import datetime as dt

import pika
import pytest
from sqlalchemy import update

from frameforge_core import messaging, outbox
from frameforge_core.messaging import REASON_HEADER, JobMessage, Publisher
from frameforge_core.models import VideoJob
from frameforge_pipeline.resources import JobQueue
from tests.api.routes.test_jobs import create_job, run_queue
from tests.integration.conftest import waiting


@pytest.fixture
def broker(rabbitmq_url):
    return JobQueue(rabbitmq_url=rabbitmq_url)


def relay(database, url: str) -> int:
    publisher = Publisher(url)
    try:
        return outbox.relay(database.session, publisher.send)
    finally:
        publisher.close()


def test_job_message_is_acked_once_its_run_exists(
    client, alice, upload, make_clip, instance, defs, database, broker
):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    job_id = create_job(client, alice, video_id).json()["jobId"]
    assert waiting(broker.rabbitmq_url, messaging.JOBS_QUEUE) == 0  # committed, not yet sent
    assert relay(database, broker.rabbitmq_url) == 1
    assert relay(database, broker.rabbitmq_url) == 0  # sent once
    assert waiting(broker.rabbitmq_url, messaging.JOBS_QUEUE) == 1

    [request] = run_queue(instance, defs, database, broker, execute=False)
    assert request.run_key == f"{job_id}:0"
    # asked for, not yet a run: the message went back to the queue
    assert waiting(broker.rabbitmq_url, messaging.JOBS_QUEUE) == 1
    # the daemon died before it created the run: the next tick asks again, same run key
    [again] = run_queue(instance, defs, database, broker)
    assert again.run_key == request.run_key
    assert waiting(broker.rabbitmq_url, messaging.JOBS_QUEUE) == 1
    assert run_queue(instance, defs, database, broker) == []  # its run exists: acked
    assert waiting(broker.rabbitmq_url, messaging.JOBS_QUEUE) == 0
    assert len(instance.get_run_records()) == 1
    body = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert body["status"] == "completed"
    assert body["frameCount"] == 5


def test_duplicate_and_stale_messages_start_nothing(
    client, alice, upload, make_clip, instance, defs, database, broker
):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    job_id = create_job(client, alice, video_id).json()["jobId"]
    relay(database, broker.rabbitmq_url)
    with database.session() as session:  # the relay crashed before stamping: sent again
        message = session.query(VideoJob).filter_by(id=job_id).one()
        stray = JobMessage(job_id, video_id, message.user_id, messaging.JOB_CREATED)
    publisher = Publisher(broker.rabbitmq_url)
    publisher.publish(messaging.JOBS_EXCHANGE, stray.event, stray.to_bytes())
    publisher.close()
    assert len(run_queue(instance, defs, database, broker)) == 1
    assert run_queue(instance, defs, database, broker) == []
    assert waiting(broker.rabbitmq_url, messaging.JOBS_QUEUE) == 0
    assert len(instance.get_run_records()) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"{not json", "malformed job message"),
     (JobMessage("no-such-job", "v", "u", messaging.JOB_CREATED).to_bytes(), "no job no-such-job")],
)  # fmt: skip
def test_what_is_not_a_job_goes_to_the_dead_letter_queue_with_the_reason(
    body, reason, instance, defs, database, broker
):
    publisher = Publisher(broker.rabbitmq_url)
    publisher.publish(messaging.JOBS_EXCHANGE, messaging.JOB_CREATED, body)
    publisher.close()
    assert run_queue(instance, defs, database, broker) == []
    assert waiting(broker.rabbitmq_url, messaging.JOBS_QUEUE) == 0
    connection = pika.BlockingConnection(pika.URLParameters(broker.rabbitmq_url))
    method, properties, dead = connection.channel().basic_get(messaging.JOBS_DLQ, auto_ack=True)
    connection.close()
    assert method is not None
    assert dead == body
    assert reason in properties.headers[REASON_HEADER]


def test_with_rabbitmq_down_jobs_queued_long_ago_still_get_their_runs(
    client, alice, upload, instance, defs, database
):
    job_id = create_job(client, alice, upload(alice, b"bytes")).json()["jobId"]
    down = JobQueue(rabbitmq_url="amqp://guest:guest@127.0.0.1:1/%2F")
    assert run_queue(instance, defs, database, down, execute=False) == []  # not stale yet
    with database.session() as session:
        session.execute(
            update(VideoJob).values(updated_at=VideoJob.updated_at - dt.timedelta(hours=1))
        )
        session.commit()
    [request] = run_queue(instance, defs, database, down, execute=False)
    assert request.run_key == f"{job_id}:0"
