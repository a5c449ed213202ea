"""``frameforge worker``: the always-on process that relays the outbox and notifies users.

How messages travel is the job source's to say (``frameforge_core.job_source``): through
RabbitMQ with ``RABBITMQ_URL``, else the relay hands finished jobs' events straight to the
notifier. SIGTERM or SIGINT stop it between two steps; a backoff wait is cut short and its
message left for later.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from frameforge_core import logs
from frameforge_core.backoff import Sleep
from frameforge_core.database import create_db_engine, migrate, session_factory
from frameforge_core.job_source import JobSource
from frameforge_core.job_source_choice import job_source
from frameforge_core.mail import transport
from frameforge_core.settings import BrokerSettings, DatabaseSettings, LinkSettings
from frameforge_worker.notice import Links
from frameforge_worker.notifier import Notifier
from frameforge_worker.settings import WorkerSettings
from frameforge_worker.webhooks import WebhookSender

log = logging.getLogger(__name__)


def main() -> int:
    """Run until SIGTERM or SIGINT. Raises pydantic.ValidationError (a ValueError) for bad
    settings, a missing JWT_SECRET in production among them, as the API does."""
    logs.configure("worker")
    logging.getLogger("pika").setLevel(logging.WARNING)  # it narrates every connection at INFO
    worker, links = WorkerSettings(), LinkSettings()
    stop = threading.Event()

    def request_stop(signum: int, _: FrameType | None) -> None:
        log.info("worker: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    broker = BrokerSettings()
    source = job_source(broker.url, broker.rabbitmq_prefix)
    run(stop, worker, links, DatabaseSettings().url, source)
    return 0


def run(
    stop: threading.Event,
    worker: WorkerSettings,
    links: LinkSettings,
    database_url: str,
    source: JobSource,
) -> None:
    """Relay and notify until ``stop`` is set, on a migrated app database."""
    engine = create_db_engine(database_url)
    migrate(engine)
    sessions = session_factory(engine)
    allow_private = worker.webhook_allow_private
    if allow_private is None:
        allow_private = links.env != "production"
    webhooks = WebhookSender(Links(links), allow_private=allow_private)

    def notifier(sleep: Sleep) -> Notifier:
        return Notifier(sessions, transport(worker), webhooks, Links(links),
                        worker.smtp_from, worker.notify_backoff_seconds, sleep)  # fmt: skip

    log.info("worker: started (%s, email via %s)", type(source).__name__,
             worker.smtp_host or "files")  # fmt: skip
    try:
        source.serve(stop, sessions, notifier, worker.relay_interval_seconds)
    finally:
        webhooks.close()
        engine.dispose()
        log.info("worker: stopped")
