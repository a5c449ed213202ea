"""The real PostgreSQL made unreachable under a running API (a TCP proxy cut between them):
requests that need it answer 503 with Retry-After and a problem that says to retry, not a
500, and work again once it is back."""

import time
from collections.abc import Iterator

import dagster as dg
import pytest
from fastapi.testclient import TestClient

from frameforge_api.main import SECURITY_HEADERS, create_app
from frameforge_api.services import jobs
from frameforge_core.errors import BRIEFLY_UNAVAILABLE
from tests.api.conftest import PASSWORD, problem
from tests.integration.faults.tcp_proxy import TcpProxy

LOGIN = {"email": "alice@example.com", "password": PASSWORD}
SLOT = {"filename": "clip.mp4", "contentType": "video/mp4"}


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(("127.0.0.1", 5432))
    yield proxy
    proxy.close()


@pytest.fixture
def database_url(postgres_url: str, proxy: TcpProxy) -> str:
    """The API's database, reached through the proxy."""
    return postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")


def assert_briefly_unavailable(answer) -> None:
    assert problem(answer) == (503, BRIEFLY_UNAVAILABLE)
    assert 1 <= int(answer.headers["Retry-After"]) <= 30
    assert "psycopg" not in answer.text
    assert "5432" not in answer.text
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value


def test_the_app_database_down_is_503_then_back(client, alice, upload, proxy, undecodable_video):
    video_id = upload(alice, undecodable_video)
    job = client.post("/api/v1/videos/jobs", json={"videoId": video_id}, headers=alice)
    assert job.status_code == 202
    status_url = f"/api/v1/videos/jobs/{job.json()['jobId']}"

    proxy.cut()
    assert_briefly_unavailable(client.post("/api/v1/auth/login", json=LOGIN))
    assert_briefly_unavailable(client.get(status_url, headers=alice))
    assert_briefly_unavailable(client.post("/api/v1/videos/upload-url", json=SLOT, headers=alice))
    assert client.get("/health").status_code == 200  # alive: only the database is gone

    proxy.restore()
    assert client.post("/api/v1/auth/login", json=LOGIN).status_code == 200
    assert client.get(status_url, headers=alice).json()["status"] == "queued"
    assert client.post("/api/v1/videos/upload-url", json=SLOT, headers=alice).status_code == 200


def test_the_dagster_instance_down_is_503_then_back(
    settings, storage, postgres_url, dagster_pg_url, undecodable_video
):
    proxy = TcpProxy(("127.0.0.1", 5432))
    via_proxy = dagster_pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    overrides = {"storage": {"postgres": {"postgres_url": via_proxy}}}
    try:
        with dg.instance_for_test(overrides=overrides) as instance:
            app = create_app(
                settings, instance=instance, storage=storage, database_url=postgres_url
            )
            client = TestClient(app)
            headers = _sign_up(client)
            slot = client.post("/api/v1/videos/upload-url", json=SLOT, headers=headers).json()
            assert client.put(slot["uploadUrl"], content=undecodable_video).status_code == 201
            job = client.post(
                "/api/v1/videos/jobs", json={"videoId": slot["videoId"]}, headers=headers
            )
            status_url = f"/api/v1/videos/jobs/{job.json()['jobId']}"
            assert client.get(status_url, headers=headers).status_code == 200

            proxy.cut()  # dagster-postgres retries a few times, then gives up
            time.sleep(jobs.LIVE_SECONDS)  # the live state read above is no longer cached
            assert_briefly_unavailable(client.get(status_url, headers=headers))

            proxy.restore()
            assert client.get(status_url, headers=headers).json()["status"] == "queued"
    finally:
        proxy.close()


def _sign_up(client: TestClient) -> dict[str, str]:
    assert client.post("/api/v1/auth/register", json=LOGIN).status_code == 201
    token = client.post("/api/v1/auth/login", json=LOGIN).json()["accessToken"]
    return {"Authorization": f"Bearer {token}"}
