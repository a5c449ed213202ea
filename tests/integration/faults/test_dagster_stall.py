"""Dagster's PostgreSQL stalled under a running API (connections open, no byte moving, through
the fault proxy): every request that reads the Dagster instance answers 503 with Retry-After
within its bound (FRAMEFORGE_DAGSTER_TIMEOUT_SECONDS, 1 s here) instead of waiting for the
stall's end; a new job is still accepted (the app database holds it); once the stall passes,
everything answers again and the calls left waiting end.

The stall ends by itself after STALL_SECONDS, so that without the bound the requests would
answer 200 after waiting it out (what the review saw: 52-59 s in a 60 s stall)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import dagster as dg
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_api.services import jobs
from frameforge_core.errors import BRIEFLY_UNAVAILABLE
from tests.api.conftest import problem
from tests.integration.faults.tcp_proxy import Mode, TcpProxy
from tests.integration.faults.test_postgres_down import LOGIN, SLOT, proxy  # noqa: F401

STALL_SECONDS = 30


@pytest.fixture
def stalled_dagster(
    proxy: TcpProxy,  # noqa: F811
    dagster_pg_url: str,
    postgres_url: str,
    storage,
) -> Iterator[TestClient]:
    """The API, its Dagster instance's storage behind the proxy (the app database direct)."""
    via_proxy = dagster_pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    overrides = {"storage": {"postgres": {"postgres_url": via_proxy}}}
    settings = Settings(jwt_secret="s" * 40, dagster_timeout_seconds=1)
    with dg.instance_for_test(overrides=overrides) as instance:
        app = create_app(settings, instance=instance, storage=storage, database_url=postgres_url)
        yield TestClient(app)


def timed(stalled: TcpProxy, request: Callable[[], Response]) -> tuple[Response, float]:
    """The answer and how long it took, checked to have come while the stall lasted."""
    began = time.monotonic()
    answer = request()
    assert stalled.mode is Mode.STALL, "answered only once the stall had passed"
    return answer, time.monotonic() - began


def test_a_stall_of_dagsters_database_is_a_quick_503_then_back(
    stalled_dagster,
    proxy,  # noqa: F811
    undecodable_video,
):
    client = stalled_dagster
    assert client.post("/api/v1/auth/register", json=LOGIN).status_code == 201
    token = client.post("/api/v1/auth/login", json=LOGIN).json()["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}

    def uploaded() -> str:
        slot = client.post("/api/v1/videos/upload-url", json=SLOT, headers=headers).json()
        assert client.put(slot["uploadUrl"], content=undecodable_video).status_code == 201
        return str(slot["videoId"])

    first = client.post("/api/v1/videos/jobs", json={"videoId": uploaded()}, headers=headers)
    job_url = f"/api/v1/videos/jobs/{first.json()['jobId']}"
    assert client.get(job_url, headers=headers).status_code == 200
    second_video = uploaded()

    time.sleep(jobs.LIVE_SECONDS)  # the live state read above is no longer cached
    proxy.stall()
    threading.Timer(STALL_SECONDS, proxy.restore).start()
    answers = {
        "GET job": timed(proxy, lambda: client.get(job_url, headers=headers)),
        "job list": timed(proxy, lambda: client.get("/api/v1/videos/jobs", headers=headers)),
        "/ready": timed(proxy, lambda: client.get("/ready")),
        "POST job": timed(
            proxy,
            lambda: client.post(
                "/api/v1/videos/jobs", json={"videoId": second_video}, headers=headers
            ),
        ),
    }
    for name, (answer, seconds) in answers.items():  # the figures, with -s
        print(f"{name} during the stall: {answer.status_code} in {seconds:.2f} s")
    for name in ("GET job", "job list", "/ready"):
        answer = answers[name][0]
        assert problem(answer) == (503, BRIEFLY_UNAVAILABLE), name
        assert answer.headers["Retry-After"] == "5"
    created = answers["POST job"][0]
    assert created.status_code == 202
    assert created.json()["status"] == "queued"

    while proxy.mode is not Mode.PASS:
        time.sleep(0.2)
    assert client.get(job_url, headers=headers).json()["status"] == "queued"
    assert client.get("/ready").status_code == 200
    bounded = client.app.state.instance
    deadline = time.monotonic() + 60
    while bounded.waiting_calls:  # the calls the requests gave up on end once it passes
        assert time.monotonic() < deadline, f"{bounded.waiting_calls} calls still waiting"
        time.sleep(0.2)
