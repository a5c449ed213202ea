"""Tell a user about a finished job on every channel, at least once and (as far as the log
can tell) at most once; and mail a new user the link that confirms their address.

Messages arrive at least once (outbox relay, RabbitMQ redelivery), so before a channel is
tried the notification log is asked whether this event was already sent on it. Each channel
gets ``MAX_ATTEMPTS`` tries with exponential backoff; every try is a committed log row, so
the log is the truth even when the process dies half-way. (The API derives the notification
metrics from these rows: ``frameforge_api.core.job_metrics``.) The verification mail gets the
same tries, unlogged: a second copy of it is harmless (either link confirms the address).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from frameforge_core import logs
from frameforge_core.backoff import Sleep, Stopped
from frameforge_core.mail import DeliveryError, MailTransport
from frameforge_core.messaging import JobMessage, VerificationMail, message_from_bytes
from frameforge_core.models import NotificationLog, User
from frameforge_worker import email, notice
from frameforge_worker.errors import UnknownJob
from frameforge_worker.notice import JobNotice, Links
from frameforge_worker.webhooks import WebhookSender

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
EMAIL, WEBHOOK = "email", "webhook"
Record = Callable[[int, str, str], None]  # attempt, "sent" or "failed", the detail


@dataclass(frozen=True)
class Notifier:
    """Notifies the user of a finished job. ``sleep`` is the wait between attempts: one that
    a stop cuts short in the embedded worker, ``connection.sleep`` under RabbitMQ (it keeps
    the connection's heartbeats going), a recorder in tests."""

    sessions: sessionmaker[Session]
    mail: MailTransport
    webhooks: WebhookSender
    links: Links
    sender: str
    backoff_seconds: float
    sleep: Sleep

    def process(
        self,
        body: bytes,
        trace_id: str | None,
        transient: tuple[type[Exception], ...] = (SQLAlchemyError,),
    ) -> str | None:
        """Handle a raw message; None when it is done with, else why it was given up on (for
        the dead-letter queue or the log).

        Raises Stopped and the ``transient`` errors (the database's, by default): the message
        is then left for another try. Any other error is a bug this message runs into: it is
        logged and returned as the reason, so that one message cannot hold up the others.
        """
        with logs.bound(trace_id=trace_id):
            try:
                message = message_from_bytes(body)
                if isinstance(message, VerificationMail):
                    failed = self.mail_link(message)
                else:
                    failed = self.handle(message, trace_id)
            except (ValueError, UnknownJob) as error:
                return str(error)
            except Stopped:
                raise
            except transient:
                raise
            except Exception as error:
                log.exception("notifying failed unexpectedly")
                return f"unexpected error: {error!r}"
            return f"delivery failed on {', '.join(failed)}" if failed else None

    def handle(self, message: JobMessage, trace_id: str | None) -> list[str]:
        """Notify the job's user by email, and by webhook when the job has a callback URL.
        Returns the channels that failed every attempt.

        Raises ValueError for a message that is not a job outcome, UnknownJob for a job the
        database does not have.
        """
        with self.sessions() as session:
            about = notice.load(session, message, trace_id)
        if about is None:
            log.info("job %s has been retried since attempt %s: not notifying", message.job_id,
                     message.attempt)  # fmt: skip
            return []
        channels: dict[str, Callable[[], str]] = {}
        if about.recipient_verified:
            channels[EMAIL] = lambda: self.mail.send(email.compose(about, self.sender, self.links))
        else:  # dropped, not kept: see frameforge_api.services.verification
            log.info("email for %s dropped: the address is not verified", about.event_id)
        if about.callback_url:
            channels[WEBHOOK] = lambda: self.webhooks.send(about)
        return [name for name, send in channels.items() if not self._deliver(about, name, send)]

    def mail_link(self, message: VerificationMail) -> list[str]:
        """Mail the user the link that confirms their address, unless it is confirmed already
        or the account is gone. Returns [EMAIL] when every attempt failed."""
        with self.sessions() as session:
            row = session.execute(
                select(User.email, User.email_verified_at).where(User.id == message.user_id)
            ).one_or_none()
        if row is None or row.email_verified_at is not None:
            log.info("verification mail for user %s not needed: %s", message.user_id,
                     "no such account" if row is None else "confirmed already")  # fmt: skip
            return []
        expires_at = dt.datetime.fromisoformat(message.expires_at)
        mail = email.compose_verification(row.email, message.link, expires_at, self.sender)
        sent = self._tries(
            lambda: self.mail.send(mail), f"verification mail for user {message.user_id}"
        )
        return [] if sent else [EMAIL]

    def _deliver(self, about: JobNotice, channel: str, send: Callable[[], str]) -> bool:
        """Up to MAX_ATTEMPTS tries of ``send`` unless the log says it was sent; True once sent."""
        sent, earlier = self._history(about, channel)
        if sent:
            log.info("%s for %s already sent: skipping the duplicate", channel, about.event_id)
            return True

        def record(attempt: int, status: str, detail: str) -> None:
            self._record(about, channel, earlier + attempt, status, detail)

        return self._tries(send, f"{channel} for {about.event_id}", record)

    def _tries(self, send: Callable[[], str], what: str, record: Record = lambda *_: None) -> bool:
        """Up to MAX_ATTEMPTS tries of ``send``, with exponential backoff, each told to
        ``record`` (attempt, status, detail); True once sent."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if attempt > 1:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 2))
            try:
                detail = send()
            except DeliveryError as error:
                record(attempt, "failed", str(error))
                log.warning("%s failed (attempt %s of %s): %s", what, attempt, MAX_ATTEMPTS,
                            error)  # fmt: skip
                if error.permanent:
                    break
                continue
            record(attempt, "sent", detail)
            log.info("%s sent: %s", what, detail)
            return True
        log.error("%s failed: giving up", what)
        return False

    def _history(self, about: JobNotice, channel: str) -> tuple[bool, int]:
        """Whether this event was sent on ``channel``, and how many attempts were logged."""
        with self.sessions() as session:
            statuses = session.scalars(
                select(NotificationLog.status).where(
                    NotificationLog.job_id == about.job_id,
                    NotificationLog.job_attempt == about.job_attempt,
                    NotificationLog.event == about.event,
                    NotificationLog.channel == channel,
                )
            ).all()
        return "sent" in statuses, len(statuses)

    def _record(
        self, about: JobNotice, channel: str, attempt: int, status: str, detail: str
    ) -> None:
        with self.sessions() as session:
            session.add(
                NotificationLog(
                    job_id=about.job_id,
                    job_attempt=about.job_attempt,
                    event=about.event,
                    channel=channel,
                    status=status,
                    attempt=attempt,
                    detail=detail,
                )
            )
            session.commit()
