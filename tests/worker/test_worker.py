"""The worker loop in the embedded default: outbox rows become emails in the data dir."""

import os
import signal
import subprocess
import sys
import threading
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from frameforge_api.services import accounts
from frameforge_core import messaging, outbox
from frameforge_core.job_source import DatabaseJobSource
from frameforge_core.messaging import JobMessage
from frameforge_core.models import NotificationLog, OutboxMessage
from frameforge_worker import email, worker
from frameforge_worker.settings import WorkerSettings
from tests.api.conftest import PASSWORD
from tests.helpers import wait_until
from tests.worker import support


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path / "home"))
    for name in ("RABBITMQ_URL", "FRAMEFORGE_SMTP_HOST", "SMTP_HOST"):  # either SMTP name
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def test_an_outbox_event_of_a_completed_job_ends_as_an_eml_file(home, sessions, database_url):
    job = support.add_job(sessions)
    created = JobMessage(job_id=job.id, video_id=job.video_id, user_id=job.user_id,
                         event=messaging.JOB_CREATED)  # fmt: skip
    with sessions() as session:
        outbox.add(session, messaging.JOBS_EXCHANGE, created, "trace-1")
        outbox.add(session, messaging.EVENTS_EXCHANGE, support.outcome(job), "trace-1")
        session.commit()
    eml = _mailed_by_the_embedded_worker(home, sessions, database_url)
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "ada@example.com"
    assert message["X-FrameForge-Trace-Id"] == "trace-1"
    assert "12 frames" in message.get_content()
    with sessions() as session:
        [row] = session.scalars(select(NotificationLog)).all()
    assert (row.channel, row.status, row.detail) == ("email", "sent", f"written to {eml}")


def test_the_embedded_worker_mails_a_new_users_link(home, sessions, database_url):
    with sessions() as session:
        accounts.register(session, "new.user@example.com", PASSWORD, support.api_settings())
    eml = _mailed_by_the_embedded_worker(home, sessions, database_url)
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "new.user@example.com"
    assert message["Subject"] == email.VERIFICATION_SUBJECT


def _mailed_by_the_embedded_worker(home, sessions, database_url) -> Path:
    """Runs the worker until the outbox is sent and a mail written; that one mail."""
    stop = threading.Event()
    settings = WorkerSettings(relay_interval_seconds=0.05)
    loop = threading.Thread(
        target=worker.run,
        args=(stop, settings, support.api_settings(), database_url, DatabaseJobSource()),
    )
    loop.start()
    try:
        wait_until(lambda: list((home / "mail").glob("*.eml")), timeout=15)
        wait_until(lambda: _unpublished(sessions) == 0, timeout=15)
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()
    [eml] = (home / "mail").glob("*.eml")
    return eml


def _unpublished(sessions) -> int:
    with sessions() as session:
        return len(session.scalars(select(OutboxMessage).filter_by(published_at=None)).all())


@pytest.mark.slow
def test_frameforge_worker_stops_cleanly_on_sigterm(home, tmp_path):
    env = {**os.environ, "FRAMEFORGE_LOG_FORMAT": "text"}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "frameforge.cli", "worker"],
        env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if "worker: started" in line:
                break
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "worker: stopped" in process.stderr.read()
    assert (home / "app.db").exists()  # migrated at start
