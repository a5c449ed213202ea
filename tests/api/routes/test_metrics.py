"""GET /metrics: Prometheus text, auth and rate-limit counters, every worker's counts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from frameforge_api.core.config import Settings
from frameforge_api.core.rate_limit import MemoryRateLimiter
from frameforge_api.main import create_app
from tests.api.conftest import PASSWORD, problem
from tests.api.scrape import increase, scrape, value

ROOT = Path(__file__).resolve().parents[3]


def test_metrics_are_prometheus_text_outside_the_api_schema(client):
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE http_requests_total counter" in answer.text
    assert "# TYPE video_processing_duration_seconds histogram" in answer.text
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_auth_outcomes_are_counted(client, sign_up):
    before = scrape(client)
    headers = sign_up("dana@example.com")  # one registration, one login
    body = {"email": "dana@example.com", "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=body).status_code == 409
    wrong = {**body, "password": "not the password 1"}
    assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    assert client.post("/api/v1/auth/validate", headers=headers).status_code == 200
    bad = {"Authorization": "Bearer not.a.token"}
    assert client.post("/api/v1/auth/validate", headers=bad).status_code == 401
    after = scrape(client)
    expected = {
        ("auth_registration_attempts_total", "success"): 1,
        ("auth_registration_attempts_total", "failure"): 1,
        ("auth_login_attempts_total", "success"): 1,
        ("auth_login_attempts_total", "failure"): 1,
        ("auth_token_validation_total", "valid"): 1,
        ("auth_token_validation_total", "invalid"): 1,
    }
    for (name, status), count in expected.items():
        assert increase(before, after, name, status=status) == count, (name, status)


def test_a_429_is_counted(instance, storage, database_url):
    limited = MemoryRateLimiter(limit=1, window=60)
    app = create_app(Settings(JWT_SECRET="m" * 40), instance, storage, database_url, limited)
    client = TestClient(app)
    body = {"email": "erin@example.com", "password": PASSWORD}
    client.post("/api/v1/auth/register", json=body)
    token = client.post("/api/v1/auth/login", json=body).json()["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    before = scrape(client)
    codes = [client.get("/api/v1/videos/jobs", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 429, 429]
    assert increase(before, scrape(client), "rate_limit_exceeded_total") == 2


@pytest.mark.slow
def test_counts_of_several_worker_processes_add_up(client, tmp_path, monkeypatch):
    """Two processes with the same PROMETHEUS_MULTIPROC_DIR, as two uvicorn workers."""
    shared = tmp_path / "prometheus"  # its own directory: every *.db in it is read
    shared.mkdir()
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    count = "from frameforge_api.core import metrics; metrics.RATE_LIMIT_EXCEEDED.inc({})"
    workers = [
        subprocess.Popen([sys.executable, "-c", count.format(n)], env=environment, cwd=ROOT)
        for n in (2, 3)
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    samples = scrape(client)
    assert value(samples, "rate_limit_exceeded_total") == 5  # this process keeps its own
    assert value(samples, "queue_depth") == 0  # the database's metrics are still there


def _app(instance, storage, database_url, **settings):
    return TestClient(
        create_app(Settings(JWT_SECRET="m" * 40, **settings), instance, storage, database_url)
    )


def test_with_a_token_metrics_need_it_as_bearer(instance, storage, database_url):
    client = _app(instance, storage, database_url, metrics_token="scrape-me-42")
    for headers in ({}, {"Authorization": "Bearer scrape-me-4"}, {"Authorization": "scrape-me-42"}):
        answer = client.get("/metrics", headers=headers)
        assert problem(answer) == (401, "the metrics token is missing or wrong")
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        assert "http_requests_total" not in answer.text
    answer = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-42"})
    assert answer.status_code == 200
    assert "# TYPE http_requests_total counter" in answer.text


def test_without_a_token_metrics_are_open_in_development_only(instance, storage, database_url):
    assert _app(instance, storage, database_url).get("/metrics").status_code == 200
    production = _app(instance, storage, database_url, env="production")
    answer = production.get("/metrics")
    assert problem(answer)[0] == 404
    assert "http_requests_total" not in answer.text
    assert production.get("/health").status_code == 200
