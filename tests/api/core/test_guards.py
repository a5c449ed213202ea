"""Bodies over the limit are refused unread (413), on every route but the upload, which
keeps its own limit."""

import asyncio

import pytest
from fastapi.testclient import TestClient

from frameforge_api.core.config import Settings
from frameforge_api.core.guards import BodyLimitMiddleware, InFlightLimitMiddleware
from frameforge_api.main import SECURITY_HEADERS, create_app
from frameforge_api.services import accounts
from tests.api.conftest import problem

LIMIT = 64 * 1024
DETAIL = "the request body is larger than the 64 KiB allowed"


@pytest.fixture
def registrations(monkeypatch) -> list[str]:
    """Emails the register service was called with: it must never see a refused body."""
    seen: list[str] = []
    register = accounts.register

    def recording(session, email, password, settings):
        seen.append(email)
        return register(session, email, password, settings)

    monkeypatch.setattr(accounts, "register", recording)
    return seen


def _huge_json(size: int) -> bytes:
    return b'{"email": "x@example.com", "password": "' + b"a1" * (size // 2) + b'"}'


def test_a_body_announced_over_the_limit_is_413_before_it_is_read(client, registrations):
    answer = client.post(
        "/api/v1/auth/register",
        content=_huge_json(200 * 1024),
        headers={"Content-Type": "application/json"},
    )
    assert problem(answer) == (413, DETAIL)
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value
    assert answer.headers["X-Trace-Id"]
    assert registrations == []


def test_a_chunked_body_growing_over_the_limit_is_413(client, registrations):
    def chunks():  # no Content-Length: the limit is enforced while the body streams in
        for _ in range(200):
            yield b"a1" * 8 * 1024

    answer = client.post(
        "/api/v1/auth/register", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in answer.request.headers
    assert problem(answer) == (413, DETAIL)
    assert registrations == []


def test_bodies_within_the_limit_are_served(client, registrations):
    body = {"email": "fine@example.com", "password": "a good pass 1"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    assert registrations == ["fine@example.com"]


def test_the_limit_is_a_setting(instance, storage, database_url):
    settings = Settings(JWT_SECRET="s" * 40, max_body_bytes=100)
    client = TestClient(create_app(settings, instance, storage, database_url))
    answer = client.post("/api/v1/auth/register", json={"email": "e" * 100 + "@example.com"})
    assert problem(answer) == (413, "the request body is larger than the 100 bytes allowed")


def test_an_upload_keeps_its_own_limit(client, alice, storage):
    size = 5 * LIMIT  # far over the JSON limit, within the upload's
    slot = client.post(
        "/api/v1/videos/upload-url",
        json={"filename": "big.mp4", "contentType": "video/mp4", "sizeBytes": size},
        headers=alice,
    ).json()

    def chunks():
        for _ in range(5):
            yield b"v" * LIMIT

    done = client.put(slot["uploadUrl"], content=chunks(), headers=slot["headers"])
    assert done.status_code == 201, done.json()
    assert done.json()["sizeBytes"] == size


def test_at_most_the_limit_and_one_chunk_is_ever_read():
    """The middleware on its own: an app that reads the whole body, a client that would
    send 100 MiB in 16 KiB chunks. Reading stops at the chunk that crosses the limit."""
    chunk = 16 * 1024
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * chunk, "more_body": pulled < 6400}

    async def send(message):
        sent.append(message)

    async def greedy_app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        raise AssertionError("the whole body was read")

    scope = {"type": "http", "method": "POST", "path": "/api/v1/auth/register", "headers": []}
    asyncio.run(BodyLimitMiddleware(greedy_app, limit=LIMIT)(scope, receive, send))

    assert pulled == LIMIT // chunk + 1
    assert sent[0]["status"] == 413
    assert dict(sent[0]["headers"])[b"content-type"] == b"application/problem+json"


def test_requests_past_the_in_flight_limit_wait_and_liveness_never_does():
    inside: list[str] = []
    release = asyncio.Event()

    async def app(scope, receive, send):
        inside.append(scope["path"])
        if scope["path"] == "/slow":
            await release.wait()

    guard = InFlightLimitMiddleware(app, limit=1, exempt=[("GET", "/health")])

    def call(path: str):
        return guard({"type": "http", "method": "GET", "path": path}, None, None)

    async def scenario() -> list[str]:
        slow = asyncio.create_task(call("/slow"))
        waiting = asyncio.create_task(call("/api/v1/videos/jobs"))
        await asyncio.sleep(0.05)
        await call("/health")  # passes while the only slot is taken
        seen = list(inside)
        release.set()
        await asyncio.gather(slow, waiting)
        return seen

    assert asyncio.run(scenario()) == ["/slow", "/health"]
    assert inside == ["/slow", "/health", "/api/v1/videos/jobs"]
