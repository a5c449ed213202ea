"""The rate limit shared through a real Redis server."""

import uuid

import pytest
import redis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frameforge_api.core import metrics
from frameforge_api.core.config import Settings
from frameforge_api.core.rate_limit import MemoryRateLimiter, RedisRateLimiter
from frameforge_api.main import create_app
from tests.api.core.test_rate_limit import check_window_rules
from tests.api.routes.test_jobs import failed_job
from tests.integration.conftest import require

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_client():
    require("127.0.0.1", 6379, "Redis")
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gaps=st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), max_size=60))
def test_redis_window_decides_as_the_in_process_one(redis_client, gaps):
    key = uuid.uuid4().hex
    shared, local = RedisRateLimiter(redis_client, 4, 60), MemoryRateLimiter(4, 60)
    now, decisions = 1_000_000.0, []
    for gap in gaps:
        now += gap
        remote, expected = shared.hit(key, now), local.hit(key, now)
        assert remote == expected
        decisions.append((now, remote.allowed, remote.retry_after))
    check_window_rules(decisions, 4, 60)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.floats(min_value=0, max_value=30, allow_nan=False), st.booleans()),
        max_size=60,
    )
)
def test_a_check_records_nothing_in_redis_either(redis_client, steps):
    """The limit on failed logins checks every attempt and hits only the failures."""
    key = uuid.uuid4().hex
    shared, local = RedisRateLimiter(redis_client, 3, 60), MemoryRateLimiter(3, 60)
    now = 1_000_000.0
    for gap, failed in steps:
        now += gap
        assert shared.check(key, now) == local.check(key, now)
        assert shared.recent(key, now) == local.recent(key, now)  # what the waits read
        if failed:
            assert shared.hit(key, now) == local.hit(key, now)


def test_two_api_processes_share_one_count(redis_client):
    key = uuid.uuid4().hex
    first = RedisRateLimiter(redis.Redis.from_url(REDIS_URL), limit=3)
    second = RedisRateLimiter(redis.Redis.from_url(REDIS_URL), limit=3)
    decisions = [limiter.hit(key, 100.0).allowed for limiter in (first, second, first, second)]
    assert decisions == [True, True, True, False]


def test_redis_down_fails_open():
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    limiter = RedisRateLimiter(unreachable, limit=1)
    assert all(limiter.hit("anyone", 0).allowed for _ in range(3))


@pytest.fixture
def settings(redis_client):
    """The API configured with REDIS_URL: rate limit and cache in Redis."""
    return Settings(JWT_SECRET="r" * 40, REDIS_URL=REDIS_URL)


def test_api_processes_share_the_cache_and_see_a_change_at_once(
    redis_client,
    settings,
    client,
    alice,
    upload,
    instance,
    storage,
    database_url,
    defs,
    database,
    undecodable_video,
):
    other = TestClient(create_app(settings, instance, storage, database_url))  # a 2nd process
    job_id = failed_job(client, alice, upload, instance, defs, database, undecodable_video)
    path = f"/api/v1/videos/jobs/{job_id}"
    assert client.get(path, headers=alice).json()["status"] == "failed"
    assert redis_client.keys(f"frameforge:cache:job-state:{job_id}:*")
    hits = metrics.CACHE_HITS._value.get()
    assert other.get(path, headers=alice).json()["status"] == "failed"
    assert metrics.CACHE_HITS._value.get() == hits + 1

    assert other.post(f"{path}/retry", headers=alice).status_code == 202
    assert client.get(path, headers=alice).json()["status"] == "queued"


def test_redis_down_the_api_answers_without_cache_or_limit(
    instance, storage, database_url, defs, database, undecodable_video
):
    down = Settings(JWT_SECRET="r" * 40, REDIS_URL="redis://127.0.0.1:1/0")
    client = TestClient(create_app(down, instance, storage, database_url))
    account = {"email": "down@example.com", "password": "redis is down 1"}
    client.post("/api/v1/auth/register", json=account)
    token = client.post("/api/v1/auth/login", json=account).json()["accessToken"]
    user = {"Authorization": f"Bearer {token}"}
    slot = client.post("/api/v1/videos/upload-url", json={"filename": "a.mp4"}, headers=user)
    client.put(slot.json()["uploadUrl"], content=undecodable_video)
    job = client.post("/api/v1/videos/jobs", json={"videoId": slot.json()["videoId"]}, headers=user)
    assert job.status_code == 202
    answers = {client.get("/api/v1/videos/jobs", headers=user).status_code for _ in range(110)}
    assert answers == {200}  # 110 > the limit of 100: it fails open
