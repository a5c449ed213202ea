"""The status and list routes read the user and the job in one hop (routes/jobs.py): every
check of the other authenticated routes still holds, in the same order (401, 429, 404)."""

import datetime as dt
import logging
import time

import pytest
from sqlalchemy import delete, select

from frameforge_api.api import deps
from frameforge_api.core.rate_limit import MemoryRateLimiter
from frameforge_api.core.security import create_token
from frameforge_core import logs
from frameforge_core.models import User
from tests.api.conftest import PASSWORD, problem
from tests.api.routes.test_jobs import create_job

READS = ["/api/v1/videos/jobs/{job_id}", "/api/v1/videos/jobs"]


@pytest.fixture
def job_id(client, alice, upload, undecodable_video) -> str:
    return str(create_job(client, alice, upload(alice, undecodable_video)).json()["jobId"])


def _user_id(database, email: str) -> str:
    with database.session() as session:
        return str(session.scalar(select(User.id).where(User.email == email)))


@pytest.mark.parametrize("path", READS)
def test_the_token_of_a_deleted_user_is_401(client, alice, job_id, database, path):
    with database.session() as session:
        session.execute(delete(User).where(User.email == "alice@example.com"))
        session.commit()
    answer = client.get(path.format(job_id=job_id), headers=alice)
    assert problem(answer) == (401, "invalid or expired access token")


@pytest.mark.parametrize("path", READS)
def test_a_refresh_token_is_no_access_token(client, job_id, path):
    body = {"email": "alice@example.com", "password": PASSWORD}
    tokens = client.post("/api/v1/auth/login", json=body).json()
    headers = {"Authorization": f"Bearer {tokens['refreshToken']}"}
    assert client.get(path.format(job_id=job_id), headers=headers).status_code == 401


@pytest.mark.parametrize("path", READS)
def test_no_token_and_an_expired_token_are_401(client, alice, job_id, database, settings, path):
    assert client.get(path.format(job_id=job_id)).status_code == 401
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    user_id = _user_id(database, "alice@example.com")
    expired = create_token(user_id, "access", settings.signing_key, dt.timedelta(hours=1), past)
    headers = {"Authorization": f"Bearer {expired}"}
    assert client.get(path.format(job_id=job_id), headers=headers).status_code == 401


def test_another_users_job_and_an_unknown_job_are_the_same_404(client, bob, job_id):
    theirs = client.get(f"/api/v1/videos/jobs/{job_id}", headers=bob)
    unknown = client.get("/api/v1/videos/jobs/no-such-job", headers=bob)
    assert theirs.status_code == unknown.status_code == 404
    assert problem(theirs) == problem(unknown)
    assert client.get("/api/v1/videos/jobs", headers=bob).json()["items"] == []


def test_past_the_rate_limit_comes_429_before_404(client, alice, job_id):
    client.app.state.rate_limiter = MemoryRateLimiter(limit=1)
    assert client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).status_code == 200
    answer = client.get("/api/v1/videos/jobs/no-such-job", headers=alice)
    assert answer.status_code == 429
    assert "Retry-After" in answer.headers


def test_the_access_log_line_names_the_user(client, alice, job_id, database):
    users: list[str | None] = []

    class UserOfLine(logging.Handler):  # the user is log context, read when a line is made
        def emit(self, record: logging.LogRecord) -> None:
            users.append(logs.user_id_var.get())

    access = logging.getLogger("frameforge.api.access")
    handler, level = UserOfLine(), access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        assert client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).status_code == 200
        assert client.get("/api/v1/videos/jobs", headers=alice).status_code == 200
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    assert users == [_user_id(database, "alice@example.com")] * 2


def test_a_token_verified_before_is_refused_once_it_expires(client, alice, job_id, monkeypatch):
    path = f"/api/v1/videos/jobs/{job_id}"
    assert client.get(path, headers=alice).status_code == 200  # verified, and remembered
    monkeypatch.setattr(deps, "_now", lambda: time.time() + 2 * 3600)  # past its hour
    assert problem(client.get(path, headers=alice)) == (401, "invalid or expired access token")


def test_a_token_verified_before_does_not_vouch_for_a_tampered_one(client, alice, job_id):
    path = f"/api/v1/videos/jobs/{job_id}"
    assert client.get(path, headers=alice).status_code == 200
    token = alice["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    for forged in (f"{header}.{payload}.{signature[::-1]}", f"{header}.{payload[:-2]}.{signature}"):
        answer = client.get(path, headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == 401
