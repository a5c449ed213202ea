"""Retries, the notification log and idempotency, against a real SMTP server."""

import dataclasses
import logging

import pytest

from frameforge_core import logs
from frameforge_worker.errors import UnknownJob
from frameforge_worker.notifier import EMAIL
from tests.worker import support
from tests.worker.conftest import BACKOFF_SECONDS, log_rows


def test_two_refusals_then_accepted_logs_three_attempts_and_sends_one_email(
    sessions, notifier, smtp_server, sleeps
):
    job = support.add_job(sessions)
    smtp_server.refuse(2)

    assert notifier.handle(support.outcome(job), "t") == []

    assert len(smtp_server.messages) == 1
    assert log_rows(sessions, EMAIL) == [(1, "failed"), (2, "failed"), (3, "sent")]
    assert sleeps == [BACKOFF_SECONDS, 2 * BACKOFF_SECONDS]  # exponential: 2 s, then 4 s


def test_log_rows_say_what_happened(sessions, notifier, smtp_server):
    job = support.add_job(sessions)
    smtp_server.refuse(1)
    notifier.handle(support.outcome(job), "t")
    with sessions() as session:
        from frameforge_core.models import NotificationLog

        failed, sent = session.query(NotificationLog).order_by(NotificationLog.id).all()
    assert (failed.job_id, failed.job_attempt, failed.event) == (job.id, 0, "video.job.completed")
    assert failed.detail == smtp_server.REFUSAL
    assert sent.detail == "250 2.0.0 Ok: queued as Q1"


def test_a_server_that_always_refuses_exhausts_the_channel(sessions, notifier, smtp_server):
    job = support.add_job(sessions)
    smtp_server.refuse(100)

    assert notifier.handle(support.outcome(job), "t") == [EMAIL]

    assert smtp_server.messages == []
    assert log_rows(sessions, EMAIL) == [(1, "failed"), (2, "failed"), (3, "failed")]


def test_a_redelivered_message_sends_no_second_email(sessions, notifier, smtp_server):
    job = support.add_job(sessions)
    message = support.outcome(job)

    notifier.handle(message, "t")
    assert notifier.handle(message, "t") == []

    assert len(smtp_server.messages) == 1
    assert log_rows(sessions, EMAIL) == [(1, "sent")]


def test_a_replay_after_giving_up_counts_attempts_on(sessions, notifier, smtp_server):
    job = support.add_job(sessions)
    smtp_server.refuse(3)
    assert notifier.handle(support.outcome(job), "t") == [EMAIL]

    assert notifier.handle(support.outcome(job), "t") == []  # e.g. replayed from the DLQ

    assert log_rows(sessions, EMAIL)[-2:] == [(3, "failed"), (4, "sent")]


def test_a_retried_job_is_notified_again_for_its_new_attempt(sessions, notifier, smtp_server):
    job = support.add_job(sessions, "failed")
    notifier.handle(support.outcome(job), "t")
    later = dataclasses.replace(support.outcome(job), attempt=1)
    with sessions() as session:
        from frameforge_core.models import VideoJob

        session.get(VideoJob, job.seq).attempt = 1  # type: ignore[union-attr]
        session.commit()

    notifier.handle(later, "t")
    assert notifier.handle(support.outcome(job), "t") == []  # the old attempt: not any more

    assert len(smtp_server.messages) == 2


def test_a_permanent_refusal_is_not_retried(sessions, notifier, smtp_server, sleeps):
    job = support.add_job(sessions)
    smtp_server.REFUSAL = "550 5.1.1 No such user"  # type: ignore[misc]
    smtp_server.refuse(1)

    assert notifier.handle(support.outcome(job), "t") == [EMAIL]

    assert log_rows(sessions, EMAIL) == [(1, "failed")]
    assert sleeps == []


def test_an_unknown_job_is_a_clear_error(notifier):
    stray = dataclasses.replace(support.outcome(support.add_job(notifier.sessions)), job_id="nope")
    with pytest.raises(UnknownJob, match="no job nope"):
        notifier.handle(stray, "t")
    assert notifier.process(stray.to_bytes(), "t") == "no job nope"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "malformed job message"),
        (b'{"job_id": 7, "video_id": "v", "user_id": "u", "event": "video.job.completed"}',
         "malformed job message"),
        (b'{"job_id": "j", "video_id": "v", "user_id": "u", "event": "video.job.created"}',
         "not a job outcome event"),
        (b'{"job_id": "j", "video_id": "v", "user_id": "u", "event": "video.job.failed", '
         b'"details": []}', "details must be an object"),
    ],
)  # fmt: skip
def test_malformed_messages_are_given_up_with_a_reason(notifier, body, reason):
    assert reason in (notifier.process(body, None) or "")


def test_a_bug_met_by_one_message_becomes_its_reason(notifier, monkeypatch):
    job = support.add_job(notifier.sessions)

    def broken(*_):
        raise KeyError("oops")

    monkeypatch.setattr("frameforge_worker.email.compose", broken)
    assert (
        notifier.process(support.outcome(job).to_bytes(), None)
        == "unexpected error: KeyError('oops')"
    )


def test_what_is_logged_while_handling_carries_the_trace_id(sessions, notifier, caplog):
    job = support.add_job(sessions)
    seen: list[str | None] = []

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(logs.current_trace_id())

    spy, logger = Spy(), logging.getLogger("frameforge_worker")
    logger.addHandler(spy)
    with caplog.at_level(logging.INFO, logger="frameforge_worker"):
        notifier.process(support.outcome(job).to_bytes(), "trace-in-logs")
    logger.removeHandler(spy)
    assert seen
    assert set(seen) == {"trace-in-logs"}
