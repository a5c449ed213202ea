"""RabbitMQ's connection dropped in the middle of publishing: the outbox keeps what was not
confirmed, a new connection sends it, and no job is lost."""

from frameforge_core import messaging, outbox
from frameforge_core.messaging import JobMessage, Publisher
from tests.integration.conftest import waiting
from tests.integration.faults.tcp_proxy import TcpProxy


def test_connection_dropped_mid_publish_loses_no_job(rabbitmq_url, database):
    proxy = TcpProxy(("127.0.0.1", 5672))
    via_proxy = rabbitmq_url.replace("127.0.0.1:5672", f"127.0.0.1:{proxy.port}")
    with database.session() as session:
        for n in range(3):
            message = JobMessage(f"job-{n}", "video", "user", messaging.JOB_CREATED)
            outbox.add(session, messaging.JOBS_EXCHANGE, message, trace_id=None)
        session.commit()

    publisher = Publisher(via_proxy)
    sent = []

    def send_then_drop(row):
        publisher.send(row)
        sent.append(row.id)
        proxy.cut()  # the connection dies right after the first confirm

    assert outbox.relay(database.session, send_then_drop) == 1
    assert not publisher.is_open
    assert outbox.relay(database.session, publisher.send) == 0  # its connection is gone

    proxy.restore()
    publisher = Publisher(via_proxy)  # what the worker does: reconnect, relay again
    assert outbox.relay(database.session, publisher.send) == 2
    publisher.close()
    proxy.close()
    assert waiting(rabbitmq_url, messaging.JOBS_QUEUE) == 3  # all three, once each
