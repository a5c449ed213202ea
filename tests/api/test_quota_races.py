"""The concurrent-job quota holds against requests made at once: every path that makes a job
live (a new job, a rendition of a video, a retry) counts under the user's quota lock
(services/quotas.py ``hold``), so no two requests count the same jobs. Here on SQLite, the
embedded default; tests/integration/test_quota_races_postgres.py runs them on PostgreSQL."""

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_core.database import create_db_engine, session_factory
from frameforge_core.lifecycle import UNFINISHED
from frameforge_core.models import VideoJob
from tests.api.conftest import PASSWORD, served

LIMIT = 5
STORED = 100_000  # bytes: ten clips of 4 kB and their slots fit
TOO_MANY = (
    f"you have {LIMIT} jobs queued or running, the most allowed at once; "
    "{} this one when one of them has ended"
)


@pytest.fixture
def api(instance, storage, database_url) -> Iterator[str]:
    """The API on uvicorn in a thread (its 40 threads answer at once), quotas of LIMIT jobs
    and STORED bytes."""

    def build(url: str) -> FastAPI:
        settings = Settings(
            JWT_SECRET="p" * 40,
            public_url=url,
            quota_concurrent_jobs=LIMIT,
            quota_stored_bytes=STORED,
        )
        return create_app(settings, instance, storage, database_url)

    with served(build) as url:
        yield f"{url}/api/v1"


@pytest.fixture
def user(api) -> dict[str, str]:
    account = {"email": "racer@example.com", "password": PASSWORD}
    assert httpx.post(f"{api}/auth/register", json=account).status_code == 201
    token = httpx.post(f"{api}/auth/login", json=account).json()["accessToken"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def live_jobs(database_url) -> Callable[[], int]:
    """How many jobs the database holds queued or submitted (what the quota counts)."""
    sessions = session_factory(create_db_engine(database_url))

    def count() -> int:
        with sessions() as session:
            query = select(func.count()).select_from(VideoJob)
            return session.scalar(query.where(VideoJob.status.in_(UNFINISHED))) or 0

    return count


def _upload(api: str, user: dict[str, str], data: bytes) -> str:
    slot = httpx.post(
        f"{api}/videos/upload-url",
        json={"filename": "clip.mp4", "contentType": "video/mp4", "sizeBytes": len(data)},
        headers=user,
    ).json()
    assert httpx.put(slot["uploadUrl"], content=data, headers=slot["headers"]).status_code == 201
    return str(slot["videoId"])


def _at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Every call sent together: each thread waits at a barrier until all are ready."""
    barrier = threading.Barrier(len(calls))

    def call(send: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return send()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(call, calls))


def _create(api: str, user: dict[str, str], video_id: str, fps: float) -> httpx.Response:
    body = {"videoId": video_id, "options": {"fps": fps}}
    return httpx.post(f"{api}/videos/jobs", json=body, headers=user, timeout=60)


def _outcomes(answers: list[httpx.Response], action: str) -> tuple[int, int]:
    """(accepted, refused), checking that every refusal is the quota's 429 and says so."""
    refused = [a for a in answers if a.status_code == 429]
    assert all(a.json()["detail"] == TOO_MANY.format(action) for a in refused)
    accepted = [a for a in answers if a.status_code == 202]
    assert len(accepted) + len(refused) == len(answers), [a.json() for a in answers]
    return len(accepted), len(refused)


def test_fifteen_jobs_asked_at_once_against_five(api, user, make_clip, live_jobs):
    """Three videos with five renditions each: new jobs and renditions, all at once."""
    data = make_clip("race.mp4", seconds=1, size=(160, 120)).path.read_bytes()
    videos = [_upload(api, user, data) for _ in range(3)]
    calls = [
        (lambda v=video, f=fps: _create(api, user, v, f))
        for video in videos
        for fps in (0.5, 1, 2, 3, 4)
    ]
    assert _outcomes(_at_once(calls), "create") == (LIMIT, 15 - LIMIT)
    assert live_jobs() == LIMIT


def test_retries_never_make_more_jobs_live_than_allowed(api, user, make_clip, live_jobs):
    """Cancel five, create five others, retry the cancelled ones at once: refused; cancel
    two of the live ones and retry the five at once again: exactly two go through."""
    data = make_clip("race.mp4", seconds=1, size=(160, 120)).path.read_bytes()
    first = [_create(api, user, _upload(api, user, data), 1).json()["jobId"] for _ in range(5)]
    for job in first:
        assert httpx.post(f"{api}/videos/jobs/{job}/cancel", headers=user).status_code == 200
    later = [_create(api, user, _upload(api, user, data), 1) for _ in range(5)]
    assert [answer.status_code for answer in later] == [202] * 5
    assert live_jobs() == LIMIT

    def retry(job: str) -> Callable[[], httpx.Response]:
        return lambda: httpx.post(f"{api}/videos/jobs/{job}/retry", headers=user, timeout=60)

    assert _outcomes(_at_once([retry(job) for job in first]), "retry") == (0, 5)
    assert live_jobs() == LIMIT
    for answer in later[:2]:
        cancel = f"{api}/videos/jobs/{answer.json()['jobId']}/cancel"
        assert httpx.post(cancel, headers=user).status_code == 200
    assert _outcomes(_at_once([retry(job) for job in first]), "retry") == (2, 3)
    assert live_jobs() == LIMIT


def test_five_upload_urls_asked_at_once_reserve_no_more_than_the_quota(api, user):
    """Nothing confirmed yet: each URL reserves its declared size, so three of 30,000
    bytes fit in 100,000 and the other two are refused, whatever the order they come in."""

    def ask() -> httpx.Response:
        body = {"filename": "clip.mp4", "contentType": "video/mp4", "sizeBytes": 30_000}
        return httpx.post(f"{api}/videos/upload-url", json=body, headers=user, timeout=60)

    answers = _at_once([ask] * 5)
    assert sorted(answer.status_code for answer in answers) == [200, 200, 200, 403, 403]
    assert {a.json()["detail"] for a in answers if a.status_code == 403} == {
        "storage quota reached: your videos, their frames and your pending uploads take 87.9 "
        "KiB of 97.7 KiB, and this upload needs 29.3 KiB; delete videos you no longer need"
    }
