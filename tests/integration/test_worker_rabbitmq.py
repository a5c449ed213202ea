"""The notifier worker on a real RabbitMQ and a real SMTP server (aiosmtpd): outbox rows go
to the broker, come back to the worker, become emails and are acked; what cannot be
notified is parked in the dead-letter queue with the reason; a dropped connection is
survived."""

import threading
from collections.abc import Iterator

import pika
import pytest
from sqlalchemy import select

from frameforge_api.services import accounts
from frameforge_core import messaging, outbox
from frameforge_core.job_source_choice import job_source
from frameforge_core.messaging import REASON_HEADER, ROUTING_KEY_HEADER, Publisher
from frameforge_core.models import OutboxMessage
from frameforge_worker import email, worker
from frameforge_worker.settings import WorkerSettings
from tests.api.conftest import PASSWORD
from tests.helpers import wait_until
from tests.integration.conftest import waiting
from tests.integration.faults.tcp_proxy import TcpProxy
from tests.worker import support


class Worker:
    """The worker loop in a thread, on the test's SMTP server."""

    def __init__(self, smtp_server) -> None:
        self.smtp_server = smtp_server
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, amqp_url: str, database_url: str) -> None:
        settings = WorkerSettings(
            smtp_host=self.smtp_server.host,
            smtp_port=self.smtp_server.port, relay_interval_seconds=0.1,
            notify_backoff_seconds=0,
        )  # fmt: skip
        self.thread = threading.Thread(
            target=worker.run,
            args=(
                self.stopping,
                settings,
                support.api_settings(),
                database_url,
                job_source(amqp_url),
            ),
        )
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(15)
            assert not self.thread.is_alive()


@pytest.fixture
def notifier_worker(smtp_server, monkeypatch, tmp_path) -> Iterator[Worker]:
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path / "home"))
    running = Worker(smtp_server)
    yield running
    running.stop()


def add_event(sessions, job, trace_id: str = "trace-amqp") -> None:
    with sessions() as session:
        outbox.add(session, messaging.EVENTS_EXCHANGE, support.outcome(job), trace_id)
        session.commit()


def test_an_outbox_event_travels_through_rabbitmq_to_an_email_and_is_acked(
    rabbitmq_url, database_url, smtp_server, notifier_worker
):
    sessions = support.migrated_sessions(database_url)
    job = support.add_job(sessions)
    add_event(sessions, job)

    notifier_worker.start(rabbitmq_url, database_url)
    wait_until(lambda: smtp_server.messages)

    [message] = smtp_server.messages
    assert message["X-FrameForge-Trace-Id"] == "trace-amqp"  # carried in the AMQP header
    assert "12 frames" in message.get_content()
    notifier_worker.stop()  # a message taken and not acked would now be back in the queue
    assert waiting(rabbitmq_url, messaging.NOTIFICATIONS_QUEUE) == 0
    assert waiting(rabbitmq_url, messaging.NOTIFICATIONS_DLQ) == 0
    with sessions() as session:
        assert session.scalars(select(OutboxMessage.published_at)).one() is not None


def test_a_verification_mail_travels_through_rabbitmq_and_survives_a_refusal(
    rabbitmq_url, database_url, smtp_server, notifier_worker
):
    sessions = support.migrated_sessions(database_url)
    with sessions() as session:
        accounts.register(session, "new.user@example.com", PASSWORD, support.api_settings())
    smtp_server.refuse(1)

    notifier_worker.start(rabbitmq_url, database_url)
    wait_until(lambda: smtp_server.messages)

    [message] = smtp_server.messages
    assert message["Subject"] == email.VERIFICATION_SUBJECT
    assert smtp_server.recipients == [["new.user@example.com"]]
    notifier_worker.stop()
    assert waiting(rabbitmq_url, messaging.NOTIFICATIONS_QUEUE) == 0
    assert waiting(rabbitmq_url, messaging.NOTIFICATIONS_DLQ) == 0


def test_a_malformed_message_is_dead_lettered_with_the_reason(
    rabbitmq_url, database_url, notifier_worker
):
    publisher = Publisher(rabbitmq_url)
    publisher.publish(messaging.EVENTS_EXCHANGE, messaging.JOB_COMPLETED, b"{not json",
                      trace_id="trace-bad", message_id="m-1")  # fmt: skip
    publisher.close()

    notifier_worker.start(rabbitmq_url, database_url)
    wait_until(lambda: waiting(rabbitmq_url, messaging.NOTIFICATIONS_DLQ) == 1)

    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    _method, properties, body = connection.channel().basic_get(
        messaging.NOTIFICATIONS_DLQ, auto_ack=True
    )
    connection.close()
    assert body == b"{not json"
    assert properties.message_id == "m-1"
    assert "malformed job message" in properties.headers[REASON_HEADER]
    assert properties.headers[ROUTING_KEY_HEADER] == messaging.JOB_COMPLETED
    assert properties.headers[messaging.TRACE_HEADER] == "trace-bad"
    assert waiting(rabbitmq_url, messaging.NOTIFICATIONS_QUEUE) == 0


def test_an_email_that_cannot_be_delivered_is_dead_lettered(
    rabbitmq_url, database_url, smtp_server, notifier_worker
):
    sessions = support.migrated_sessions(database_url)
    add_event(sessions, support.add_job(sessions))
    smtp_server.refuse(100)

    notifier_worker.start(rabbitmq_url, database_url)
    wait_until(lambda: waiting(rabbitmq_url, messaging.NOTIFICATIONS_DLQ) == 1)

    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    _, properties, _ = connection.channel().basic_get(messaging.NOTIFICATIONS_DLQ, auto_ack=True)
    connection.close()
    assert properties.headers[REASON_HEADER] == "delivery failed on email"


def test_the_worker_reconnects_when_the_broker_drops_the_connection(
    rabbitmq_url, database_url, smtp_server, notifier_worker
):
    sessions = support.migrated_sessions(database_url)
    proxy = TcpProxy(("127.0.0.1", 5672))
    try:
        notifier_worker.start(f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F", database_url)
        add_event(sessions, support.add_job(sessions, email="first@example.com"))
        wait_until(lambda: len(smtp_server.messages) == 1)

        proxy.cut()  # as a broker restart or a network failure would
        proxy.restore()
        add_event(sessions, support.add_job(sessions, email="second@example.com"))
        wait_until(lambda: len(smtp_server.messages) == 2)
    finally:
        proxy.close()
    assert [m["To"] for m in smtp_server.messages] == ["first@example.com", "second@example.com"]
