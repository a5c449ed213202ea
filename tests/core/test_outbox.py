"""The outbox relay: in order, once each, and what a send refuses stays for the next call."""

import datetime as dt

from frameforge_core import messaging, outbox
from frameforge_core.messaging import JobMessage
from frameforge_core.models import OutboxMessage, utcnow


def add(database, count: int) -> None:
    with database.session() as session:
        for n in range(count):
            message = JobMessage(f"job-{n}", "video", "user", messaging.JOB_CREATED)
            outbox.add(session, messaging.JOBS_EXCHANGE, message, trace_id=f"trace-{n}")
        session.commit()


def test_relay_sends_in_order_and_keeps_what_was_refused(database):
    add(database, 4)
    sent = []

    def send_two_then_fail(row: OutboxMessage) -> None:
        if len(sent) == 2:
            raise ConnectionError("broker gone")
        sent.append((JobMessage.from_bytes(row.body.encode()).job_id, row.trace_id))

    assert outbox.relay(database.session, send_two_then_fail) == 2
    assert sent == [("job-0", "trace-0"), ("job-1", "trace-1")]
    sent.clear()
    assert outbox.relay(database.session, sent.append) == 2  # the rest, in order
    assert [row.routing_key for row in sent] == [messaging.JOB_CREATED] * 2
    assert outbox.relay(database.session, sent.append) == 0  # nothing twice


def test_a_rolled_back_change_sends_nothing(database):
    with database.session() as session:
        message = JobMessage("job", "video", "user", messaging.JOB_CREATED)
        outbox.add(session, messaging.JOBS_EXCHANGE, message, trace_id=None)
        session.rollback()
    assert outbox.relay(database.session, lambda row: None) == 0


def test_prune_deletes_only_what_was_published_before_the_cut(database):
    add(database, 3)
    outbox.relay(database.session, lambda row: None, limit=2)
    assert outbox.prune(database.session, utcnow() - dt.timedelta(days=7)) == 0
    assert outbox.prune(database.session, utcnow() + dt.timedelta(seconds=1)) == 2
    assert outbox.relay(database.session, lambda row: None) == 1  # the unpublished one stays
