"""The rate limit shared through a real Redis server."""

import uuid

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frameforge_api.core.rate_limit import MemoryRateLimiter, RedisRateLimiter
from tests.api.core.test_rate_limit import check_window_rules
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
