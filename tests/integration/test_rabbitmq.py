"""Topology and publishing on a real RabbitMQ server."""

import json

import pika
import pytest

from frameforge_core import messaging
from frameforge_core.messaging import DEFAULT_TOPOLOGY, JobMessage, Publisher
from tests.integration.conftest import RABBITMQ_URL as URL


@pytest.fixture
def channel(rabbitmq_url):
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    DEFAULT_TOPOLOGY.declare(channel)
    yield channel
    connection.close()


def test_topology_is_idempotent_and_as_designed(channel):
    DEFAULT_TOPOLOGY.declare(channel)  # a second start changes nothing and does not fail
    jobs = channel.queue_declare(messaging.JOBS_QUEUE, passive=True)
    assert jobs.method.queue == "video.processing.jobs"
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="PRECONDITION_FAILED"):
        channel.queue_declare(  # other arguments than the real queue's are refused
            messaging.JOBS_QUEUE, durable=True, arguments={"x-message-ttl": 1}
        )


def test_published_job_arrives_persistent_with_version_and_trace(channel):
    # a private queue with the jobs queue's binding sees a copy, whatever else runs
    watcher = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(watcher, messaging.JOBS_EXCHANGE, routing_key=messaging.JOB_CREATED)
    publisher = Publisher(URL)
    message = JobMessage(job_id="j1", video_id="v1", user_id="u1", event=messaging.JOB_CREATED)
    publisher.publish(
        messaging.JOBS_EXCHANGE, message.event, message.to_bytes(), trace_id="trace-123"
    )
    publisher.close()
    method, properties, body = channel.basic_get(watcher, auto_ack=True)
    assert method is not None
    assert properties.delivery_mode == 2
    assert properties.headers == {"x-trace-id": "trace-123"}
    assert json.loads(body)["version"] == 1
    assert JobMessage.from_bytes(body) == message


def test_unroutable_message_is_refused_not_lost_silently(channel):
    publisher = Publisher(URL)
    stray = JobMessage(job_id="j", video_id="v", user_id="u", event="video.job.nobody")
    with pytest.raises(pika.exceptions.UnroutableError):
        publisher.publish(messaging.JOBS_EXCHANGE, stray.event, stray.to_bytes())
    publisher.close()


@pytest.mark.parametrize(
    "body", [b"not json", b'{"job_id": "j"}', b'{"job_id":"j","video_id":"v","user_id":"u",'
    b'"event":"e","version":99}', b'{"job_id":"j","video_id":"v","user_id":"u","event":"e",'
    b'"attempt":"0"}', b'{"job_id":"j\\u0000","video_id":"v","user_id":"u","event":"e"}']
)  # fmt: skip
def test_malformed_messages_are_named(body):
    with pytest.raises(ValueError, match="job message"):
        JobMessage.from_bytes(body)
