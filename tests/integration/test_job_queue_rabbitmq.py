"""The job_queue sensor on RabbitMQ, with the app database and the Dagster instance on
PostgreSQL: a job is acknowledged only once its run exists, and never run twice."""

import datetime as dt
import time

import pika
import pytest
from sqlalchemy import update

from frameforge_core import messaging, outbox
from frameforge_core.messaging import REASON_HEADER, JobMessage, Publisher, Topology
from frameforge_core.models import VideoJob
from frameforge_core.rabbitmq_source import RabbitMQJobSource
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
    assert relay(database, broker.rabbitmq_url) == 1  # alice's verification mail, from sign-up
    job_id = create_job(client, alice, video_id).json()["jobId"]
    assert waiting(broker.rabbitmq_url, messaging.JOBS_QUEUE) == 0  # committed, not yet sent
    assert relay(database, broker.rabbitmq_url) == 1  # the job's one message
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


def _dead_letter(url: str) -> tuple[pika.BasicProperties, bytes] | None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    method, properties, body = connection.channel().basic_get(messaging.JOBS_DLQ, auto_ack=True)
    connection.close()
    return None if method is None else (properties, body)


@pytest.mark.parametrize(("body", "reason"), [(b"{not json", "malformed job message")])
def test_what_is_not_a_job_goes_to_the_dead_letter_queue_with_the_reason(
    body, reason, instance, defs, database, broker
):
    publisher = Publisher(broker.rabbitmq_url)
    publisher.publish(messaging.JOBS_EXCHANGE, messaging.JOB_CREATED, body)
    publisher.close()
    assert run_queue(instance, defs, database, broker) == []
    assert waiting(broker.rabbitmq_url, messaging.JOBS_QUEUE) == 0
    properties, dead = _dead_letter(broker.rabbitmq_url)
    assert dead == body
    assert reason in properties.headers[REASON_HEADER]


def _offered(source: RabbitMQJobSource, database) -> list[str]:
    with database.session() as session, source.offers(session) as offers:
        return [offer.job.id for offer in offers]


def test_a_message_about_an_unknown_job_comes_back_before_it_is_parked(database, rabbitmq_url):
    """Another deployment's job, or one sent before its row could be read: not dead-lettered
    at once, but returned after a delay, and parked only after ``max_returns`` returns."""
    source = RabbitMQJobSource(rabbitmq_url, retry_delay_seconds=0.3, max_returns=2)
    stray = JobMessage("no-such-job", "v", "u", messaging.JOB_CREATED).to_bytes()
    publisher = Publisher(rabbitmq_url)
    publisher.publish(messaging.JOBS_EXCHANGE, messaging.JOB_CREATED, stray)
    publisher.close()
    for taken in range(3):
        deadline = time.monotonic() + 30
        while waiting(rabbitmq_url, messaging.JOBS_QUEUE) == 0:  # back from its wait
            assert time.monotonic() < deadline, f"the message did not come back ({taken})"
            time.sleep(0.05)
        assert _offered(source, database) == []
        assert waiting(rabbitmq_url, messaging.JOBS_QUEUE) == 0
        assert (_dead_letter(rabbitmq_url) is None) == (taken < 2)
    assert waiting(rabbitmq_url, messaging.JOBS_RETRY_QUEUE) == 0


def test_deployments_sharing_a_broker_never_take_each_others_jobs(
    client, alice, upload, database, rabbitmq_url, undecodable_video
):
    staging = Topology("frameforge-test-staging.")
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    for queue in messaging.QUEUES:
        channel.queue_delete(staging.name(queue))
    staging.declare(channel)
    try:
        publisher = Publisher(rabbitmq_url, staging)  # this job belongs to "staging"
        assert outbox.relay(database.session, publisher.send) == 1  # alice's verification mail
        job_id = create_job(client, alice, upload(alice, undecodable_video)).json()["jobId"]
        assert outbox.relay(database.session, publisher.send) == 1  # the job's message
        publisher.close()
        assert waiting(rabbitmq_url, messaging.JOBS_QUEUE) == 0  # production's stays empty
        assert waiting(rabbitmq_url, staging.name(messaging.JOBS_QUEUE)) == 1
        assert _offered(RabbitMQJobSource(rabbitmq_url), database) == []
        assert _offered(RabbitMQJobSource(rabbitmq_url, staging), database) == [job_id]
    finally:
        for queue in messaging.QUEUES:
            channel.queue_delete(staging.name(queue))
        connection.close()


def test_with_rabbitmq_down_jobs_queued_long_ago_still_get_their_runs(
    client, alice, upload, instance, defs, database, undecodable_video
):
    job_id = create_job(client, alice, upload(alice, undecodable_video)).json()["jobId"]
    down = JobQueue(rabbitmq_url="amqp://guest:guest@127.0.0.1:1/%2F")
    assert run_queue(instance, defs, database, down, execute=False) == []  # not stale yet
    with database.session() as session:
        session.execute(
            update(VideoJob).values(updated_at=VideoJob.updated_at - dt.timedelta(hours=1))
        )
        session.commit()
    [request] = run_queue(instance, defs, database, down, execute=False)
    assert request.run_key == f"{job_id}:0"
