"""Email verification end to end: the API puts a signed link in the outbox with the new user,
the worker's notifier mails it over SMTP (aiosmtpd, started by the test), trying again when
the server refuses; nothing else reaches the address until the link is followed, then the
job emails do (over the same SMTP server), on PostgreSQL."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_api.services import verification
from frameforge_core import outbox
from frameforge_core.database import create_db_engine, session_factory
from frameforge_core.mail import SmtpTransport
from frameforge_core.models import User, Video, VideoJob
from frameforge_core.settings import DEFAULT_SENDER
from frameforge_worker import email
from frameforge_worker.notice import Links
from frameforge_worker.notifier import Notifier
from frameforge_worker.webhooks import WebhookSender
from tests.api.conftest import PASSWORD, problem
from tests.worker import support

ADDRESS = "new.user@example.com"
LINK = re.compile(r"https?://\S+/api/v1/auth/verify-email\?token=[A-Za-z0-9._%-]+")


@pytest.fixture
def api(instance, storage, database_url) -> TestClient:
    settings = Settings(JWT_SECRET="v" * 40, public_url="https://frames.test")
    return TestClient(create_app(settings, instance, storage, database_url))


@pytest.fixture
def notifier(api, smtp_server, database_url) -> Notifier:
    """The worker's notifier on the test's SMTP server, its backoff not slept."""
    settings = api.app.state.settings
    return Notifier(
        session_factory(create_db_engine(database_url)),
        SmtpTransport(smtp_server.host, smtp_server.port),
        WebhookSender(Links(settings), allow_private=True),
        Links(settings), DEFAULT_SENDER, 0.0, lambda _: None,
    )  # fmt: skip


def deliver(notifier: Notifier) -> None:
    """What the worker does with the outbox: every unsent message to the notifier."""
    outbox.relay(notifier.sessions, lambda row: notifier.process(row.body.encode(), None))


def finished_job(database_url: str, user_id: str, filename: str) -> VideoJob:
    sessions = session_factory(create_db_engine(database_url))
    with sessions() as session:
        video = Video(user_id=user_id, filename=filename, content_type="video/mp4",
                      storage_key="uploads/x/clip.mp4", max_bytes=1)  # fmt: skip
        session.add(video)
        session.flush()
        job = VideoJob(user_id=user_id, video_id=video.id, options={}, status="completed",
                       frame_count=12)  # fmt: skip
        session.add(job)
        session.commit()
        return job


def test_a_new_address_gets_a_signed_link_and_no_other_mail_until_it_is_followed(
    api, smtp_server, database_url, notifier
):
    registered = api.post("/api/v1/auth/register", json={"email": ADDRESS, "password": PASSWORD})
    assert registered.status_code == 201
    user_id = registered.json()["id"]
    smtp_server.refuse(1)  # the server is busy at first: the worker tries again
    deliver(notifier)
    [mail] = smtp_server.messages
    assert smtp_server.recipients == [[ADDRESS]]
    assert mail["Subject"] == email.VERIFICATION_SUBJECT
    [link] = LINK.findall(mail.get_content())
    assert link.startswith("https://frames.test/api/v1/auth/verify-email?token=")

    sessions = notifier.sessions
    before = finished_job(database_url, user_id, "URGENT payroll locked.mp4")
    assert notifier.handle(support.outcome(before), None) == []
    assert len(smtp_server.messages) == 1  # the job's email was dropped: not verified

    tokens = api.post("/api/v1/auth/login", json={"email": ADDRESS, "password": PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {tokens['accessToken']}"}
    assert api.post("/api/v1/auth/validate", headers=bearer).json()["emailVerified"] is False

    followed = api.get(link.removeprefix("https://frames.test"), follow_redirects=False)
    assert followed.status_code == 303
    assert followed.headers["location"] == "https://frames.test/#email-verified"
    assert api.post("/api/v1/auth/validate", headers=bearer).json()["emailVerified"] is True
    with sessions() as session:
        assert session.scalar(select(User.email_verified_at)) is not None

    after = finished_job(database_url, user_id, "URGENT payroll locked.mp4")
    assert notifier.handle(support.outcome(after), None) == []
    job_mail = smtp_server.messages[1]
    assert job_mail["Subject"] == email.COMPLETED_SUBJECT  # the file name is not the subject
    assert '"URGENT payroll locked.mp4"' in job_mail.get_content()
    assert smtp_server.recipients[1] == [ADDRESS]


def test_a_forged_expired_or_foreign_link_is_401(api, smtp_server, notifier):
    registered = api.post("/api/v1/auth/register", json={"email": ADDRESS, "password": PASSWORD})
    deliver(notifier)
    [link] = LINK.findall(smtp_server.messages[0].get_content())
    path = link.removeprefix("https://frames.test")
    for bad in (path[:-4] + "AAAA", "/api/v1/auth/verify-email?token=not-a-token"):
        assert problem(api.get(bad, follow_redirects=False)) == (401, verification.REFUSED)
    assert problem(api.get("/api/v1/auth/verify-email"))[0] == 422
    access = api.post("/api/v1/auth/login", json={"email": ADDRESS, "password": PASSWORD})
    token = access.json()["accessToken"]  # an access token is not a verification link
    answer = api.get("/api/v1/auth/verify-email", params={"token": token})
    assert problem(answer) == (401, verification.REFUSED)
    assert registered.json()["id"]


def test_a_lost_link_is_asked_for_again_a_few_times_an_hour(api, smtp_server, notifier):
    body = {"email": ADDRESS, "password": PASSWORD}
    api.post("/api/v1/auth/register", json=body)
    bearer = {
        "Authorization": f"Bearer {api.post('/api/v1/auth/login', json=body).json()['accessToken']}"
    }
    answers = [api.post("/api/v1/auth/verification", headers=bearer) for _ in range(6)]
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    deliver(notifier)
    assert len(smtp_server.messages) == 6  # the registration's and five more
    [link] = LINK.findall(smtp_server.messages[-1].get_content())
    api.get(link.removeprefix("https://frames.test"), follow_redirects=False)
    assert api.post("/api/v1/auth/verification", headers=bearer).status_code == 204
