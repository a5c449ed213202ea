"""``frameforge worker``: the always-on process that relays the outbox and notifies users.

With ``RABBITMQ_URL`` it is the Consumer (frameforge_worker.consumer). Without it (the embedded
default) the relay's ``send`` is local: ``video.job.created`` needs nothing (the sensor polls
the job table) and a finished job's event goes straight to the notifier. SIGTERM or SIGINT
stop it between two steps; a backoff wait is cut short and its message left for later.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from frameforge_api.core.config import Settings, get_settings
from frameforge_core import logs, outbox
from frameforge_core.database import create_db_engine, migrate, session_factory
from frameforge_core.messaging import JOB_COMPLETED, JOB_FAILED
from frameforge_core.models import OutboxMessage
from frameforge_worker import email
from frameforge_worker.consumer import Consumer
from frameforge_worker.errors import Stopped
from frameforge_worker.notice import Links
from frameforge_worker.notifier import Notifier, Sleep
from frameforge_worker.settings import WorkerSettings
from frameforge_worker.webhooks import WebhookSender

log = logging.getLogger(__name__)


def main() -> int:
    """Run until SIGTERM or SIGINT. Raises pydantic.ValidationError for bad settings and
    ValueError for a bad FRAMEFORGE_LOG_LEVEL or FRAMEFORGE_LOG_FORMAT."""
    logs.configure("worker")
    logging.getLogger("pika").setLevel(logging.WARNING)  # it narrates every connection at INFO
    worker = WorkerSettings()
    api = get_settings()  # fails fast, as the API does, on a missing JWT_SECRET in production
    stop = threading.Event()

    def request_stop(signum: int, _: FrameType | None) -> None:
        log.info("worker: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    run(stop, worker, api)
    return 0


def run(
    stop: threading.Event,
    worker: WorkerSettings,
    api: Settings,
    database_url: str | None = None,
) -> None:
    """Relay and notify until ``stop`` is set, on a migrated app database."""
    engine = create_db_engine(database_url)
    migrate(engine)
    sessions = session_factory(engine)
    links = Links(api)
    allow_private = worker.webhook_allow_private
    if allow_private is None:
        allow_private = api.frameforge_env != "production"
    webhooks = WebhookSender(links, allow_private=allow_private)

    def notifier(sleep: Sleep) -> Notifier:
        return Notifier(sessions, email.transport(worker), webhooks, links, worker.smtp_from,
                        worker.notify_backoff_seconds, sleep)  # fmt: skip

    mode = "RabbitMQ" if worker.rabbitmq_url else "embedded"
    log.info("worker: started (%s, email via %s)", mode, worker.smtp_host or "files")
    try:
        if worker.rabbitmq_url:
            interval = worker.relay_interval_seconds
            Consumer(stop, sessions, worker.rabbitmq_url, notifier, interval).run()
        else:
            relay_locally(stop, sessions, notifier(_waiter(stop)), worker.relay_interval_seconds)
    finally:
        webhooks.close()
        engine.dispose()
        log.info("worker: stopped")


def relay_locally(
    stop: threading.Event, sessions: sessionmaker[Session], notifier: Notifier, interval: float
) -> None:
    """The embedded default's relay: every ``interval``, unsent outbox rows are handled here.

    A row that cannot be notified is logged and counts as sent (the notification log keeps
    its attempts): without a dead-letter queue, retrying it forever would block the rows
    behind it.
    """

    def send(row: OutboxMessage) -> None:
        if row.routing_key not in (JOB_COMPLETED, JOB_FAILED):
            return  # video.job.created: the DB-polling sensor owns jobs
        reason = notifier.process(row.body.encode(), row.trace_id)
        if reason is not None:
            log.error("worker: outbox message %s not notified: %s", row.id, reason)

    while not stop.is_set():
        try:
            outbox.relay(sessions, send)
        except SQLAlchemyError:
            log.warning("worker: the database failed; trying again", exc_info=True)
        stop.wait(interval)


def _waiter(stop: threading.Event) -> Sleep:
    """A backoff wait that a stop cuts short (raising Stopped)."""

    def wait(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped

    return wait
