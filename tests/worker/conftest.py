"""A migrated app database, a notifier on the test's SMTP server and a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from frameforge_core.mail import SmtpTransport
from frameforge_core.models import NotificationLog
from frameforge_core.settings import DEFAULT_SENDER
from frameforge_worker.notice import Links
from frameforge_worker.notifier import Notifier
from frameforge_worker.webhooks import WebhookSender
from tests.worker import support

BACKOFF_SECONDS = 2.0


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    return support.migrated_sessions(database_url)


@pytest.fixture
def links() -> Links:
    return Links(support.api_settings())


@pytest.fixture
def sleeps() -> list[float]:
    """The notifier's backoff waits, recorded instead of slept."""
    return []


@pytest.fixture
def notifier(sessions, smtp_server, links, sleeps) -> Iterator[Notifier]:
    """Email over SMTP to ``smtp_server``; webhooks allowed to loopback (development)."""
    webhooks = WebhookSender(links, allow_private=True)
    yield Notifier(
        sessions, SmtpTransport(smtp_server.host, smtp_server.port), webhooks, links,
        DEFAULT_SENDER, BACKOFF_SECONDS, sleeps.append,
    )  # fmt: skip
    webhooks.close()


def log_rows(sessions: sessionmaker[Session], channel: str) -> list[tuple[int, str]]:
    """(attempt, status) of every notification_log row of ``channel``, in order."""
    with sessions() as session:
        rows = session.execute(
            select(NotificationLog.attempt, NotificationLog.status)
            .where(NotificationLog.channel == channel)
            .order_by(NotificationLog.id)
        ).all()
    return [(attempt, status) for attempt, status in rows]


@dataclass
class WebhookReceiver:
    """Verifies each request with the job's secret (401 when it does not verify), keeps the
    verified ones, and answers with ``statuses`` in turn, then 204."""

    url: str = ""
    secret: str = support.SECRET
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], Any]] = field(default_factory=list)  # headers, payload
    refused: int = 0


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                payload = Webhook(receiver.secret).verify(body, headers)
            except WebhookVerificationError:
                receiver.refused += 1
                status = 401
            else:
                assert payload == json.loads(body)
                receiver.received.append((headers, payload))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks/frameforge"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
