import pytest
from dagster._core.scheduler.instigation import TickStatus

from tests.api.conftest import problem
from tests.pipeline.daemon_support import beat, sensor_ticks


def test_health_ready_and_security_headers(client, instance):
    beat(instance)
    health = client.get("/health")
    assert health.json() == {"status": "ok"}
    assert health.headers["x-content-type-options"] == "nosniff"
    assert health.headers["x-frame-options"] == "DENY"
    assert client.get("/ready").json() == {
        "status": "ok",
        "database": "ok",
        "dagster": "ok",
        "daemon": "ok",
    }
    assert client.get("/openapi.json").json()["paths"].keys() >= {
        "/api/v1/auth/login",
        "/api/v1/videos/upload-url",
        "/api/v1/videos/jobs",
        "/api/v1/videos/jobs/{job_id}",
    }


def test_not_ready_without_a_dagster_daemon(client):
    assert problem(client.get("/ready")) == (503, "the Dagster daemon is not running")


def test_not_ready_when_the_daemon_stopped_reporting(client, instance):
    beat(instance, seconds_ago=600)
    status, detail = problem(client.get("/ready"))
    assert status == 503
    assert detail.startswith("the Dagster daemon has not reported for 60")
    assert "SENSOR" in detail


@pytest.mark.parametrize(
    ("ticks", "ready"),
    [
        ((TickStatus.FAILURE,) * 3, False),
        ((TickStatus.FAILURE, TickStatus.FAILURE, TickStatus.SUCCESS), True),
        ((TickStatus.SUCCESS, TickStatus.FAILURE, TickStatus.FAILURE), True),
    ],
)
def test_not_ready_while_a_sensor_keeps_failing(client, instance, ticks, ready):
    beat(instance)
    sensor_ticks(instance, "job_queue", *ticks)
    answer = client.get("/ready")
    if ready:
        assert answer.status_code == 200
    else:
        assert problem(answer) == (
            503,
            "the Dagster sensor job_queue keeps failing (OperationalError)",
        )


def test_openapi_documents_errors_as_problem_json(client):
    spec = client.get("/openapi.json").json()
    answer = spec["paths"]["/api/v1/videos/jobs"]["post"]["responses"]
    assert set(answer) >= {"202", "401", "409", "422"}
    assert "application/problem+json" in answer["422"]["content"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_cors_only_for_configured_origins(instance, storage, database_url, monkeypatch):
    from fastapi.testclient import TestClient

    from frameforge_api.core.config import Settings
    from frameforge_api.main import create_app

    monkeypatch.setenv("FRAMEFORGE_CORS_ORIGINS", '["https://app.example.com"]')
    settings = Settings(JWT_SECRET="c" * 40)
    client = TestClient(create_app(settings, instance, storage, database_url))
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = client.options(
        "/api/v1/videos/jobs", headers={"Origin": "https://app.example.com", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    other = client.options(
        "/api/v1/videos/jobs", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers
