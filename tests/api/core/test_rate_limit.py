"""The sliding window, as properties (hypothesis), and as the API applies it."""

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from frameforge_api.core.config import Settings
from frameforge_api.core.rate_limit import MemoryRateLimiter
from frameforge_api.main import create_app

gaps = st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), max_size=120)


def replay(limiter, gaps: list[float]) -> list[tuple[float, bool, int]]:
    now, decisions = 1_000_000.0, []
    for gap in gaps:
        now += gap
        decision = limiter.hit("user", now)
        decisions.append((now, decision.allowed, decision.retry_after))
    return decisions


def check_window_rules(decisions, limit: int, window: float) -> None:
    allowed_times = [t for t, ok, _ in decisions if ok]
    for t, ok, retry_after in decisions:
        recent = [a for a in allowed_times if t - window < a <= t]
        if ok:  # never more than `limit` in any window
            assert len(recent) <= limit
        else:  # refused only when the window is full, and told when room opens
            assert len(recent) >= limit
            assert retry_after >= 1
            assert min(recent) + window <= t + retry_after


@given(gaps, st.integers(min_value=1, max_value=8))
def test_sliding_window_in_process(gaps, limit):
    check_window_rules(replay(MemoryRateLimiter(limit, 60), gaps), limit, 60)


def test_users_have_their_own_windows():
    limiter = MemoryRateLimiter(2, 60)
    assert [limiter.hit("a", 0).allowed for _ in range(3)] == [True, True, False]
    assert limiter.hit("b", 0).allowed
    assert limiter.hit("a", 60.5).allowed  # the first two left the window


def test_api_answers_429_with_retry_after(instance, storage, database_url):
    app = create_app(
        Settings(JWT_SECRET="r" * 40),
        instance,
        storage,
        database_url,
        rate_limiter=MemoryRateLimiter(limit=3, window=60),
    )
    client = TestClient(app)
    for email in ("a@example.com", "b@example.com"):
        body = {"email": email, "password": "rate limit 1"}
        client.post("/api/v1/auth/register", json=body)
    token = client.post(
        "/api/v1/auth/login", json={"email": "a@example.com", "password": "rate limit 1"}
    ).json()["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    codes = [client.get("/api/v1/videos/jobs", headers=headers).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/videos/jobs", headers=headers)
    assert refused.headers["retry-after"] == "60"
    assert refused.json()["detail"] == "too many requests: 3 per 60 s per user; retry in 60 s"
    other = client.post(
        "/api/v1/auth/login", json={"email": "b@example.com", "password": "rate limit 1"}
    ).json()["accessToken"]
    assert (
        client.get("/api/v1/videos/jobs", headers={"Authorization": f"Bearer {other}"}).status_code
        == 200
    )
