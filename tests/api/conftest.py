"""An API on a temporary SQLite database, Dagster instance and local store."""

import contextlib
import datetime as dt
import functools
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_api.services import verification
from frameforge_pipeline.resources import AppDatabase

PASSWORD = "correct horse 7"


@pytest.fixture
def settings() -> Settings:
    return Settings(JWT_SECRET="s" * 40, max_upload_bytes=1_000_000)


@pytest.fixture
def database(database_url: str, client: TestClient) -> AppDatabase:
    """The API's database as the pipeline sees it (migrated by the API's startup)."""
    return AppDatabase(url=database_url)


@pytest.fixture
def client(settings, instance, storage, database_url) -> TestClient:
    """The API, called from an address of this test's own: limits per address counted in a
    shared Redis (tests/integration) never add up across tests."""
    app = create_app(settings, instance=instance, storage=storage, database_url=database_url)
    return TestClient(app, client=(f"test-{uuid.uuid4().hex[:12]}", 50000))


def verify(client: TestClient, user_id: str, email: str) -> None:
    """Follow the link the registration mailed to ``email`` (made again here, as the API
    makes it: whichever transport the app has, a test need not read its mail)."""
    settings = client.app.state.settings  # type: ignore[attr-defined]
    link = verification.link(settings, user_id, email, dt.datetime.now(dt.UTC))
    answer = client.get(link.removeprefix(settings.public_url.rstrip("/")), follow_redirects=False)
    assert answer.status_code == 303, answer.text


def sign_up_on(client: TestClient, email: str) -> dict[str, str]:
    """Register ``email``, verify its address and log in; returns its Authorization header."""
    body = {"email": email, "password": PASSWORD}
    registered = client.post("/api/v1/auth/register", json=body)
    assert registered.status_code == 201
    verify(client, registered.json()["id"], email.lower())
    tokens = client.post("/api/v1/auth/login", json=body).json()
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


@pytest.fixture
def sign_up(client: TestClient) -> Callable[[str], dict[str, str]]:
    """``sign_up(email)`` on the test's API."""
    return functools.partial(sign_up_on, client)


@pytest.fixture
def alice(sign_up) -> dict[str, str]:
    return sign_up("alice@example.com")


@pytest.fixture
def bob(sign_up) -> dict[str, str]:
    return sign_up("bob@example.com")


@pytest.fixture
def upload(client: TestClient) -> Callable[..., str]:
    """Upload ``data`` as ``user``'s video through the signed URL; returns the video id."""

    def upload(user: dict[str, str], data: bytes, filename: str = "clip.mp4") -> str:
        slot = client.post(
            "/api/v1/videos/upload-url",
            json={"filename": filename, "contentType": "video/mp4", "sizeBytes": len(data)},
            headers=user,
        ).json()
        done = client.put(slot["uploadUrl"], content=data, headers=slot["headers"])
        assert done.status_code == 201, done.json()
        return str(slot["videoId"])

    return upload


def problem(response) -> tuple[int, str]:
    """Status and detail of a problem+json answer, checking its shape."""
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code
    assert {"type", "title", "status", "detail"} <= body.keys()
    return response.status_code, body["detail"]


@contextlib.contextmanager
def served(build: Callable[[str], FastAPI]) -> Iterator[str]:
    """The app ``build(url)`` makes (``url``: where it is served, for its signed links), on
    uvicorn in a thread on a free loopback port; yields that URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(build(url), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(30)
        listener.close()
