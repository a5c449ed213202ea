import pytest
from dagster._core.scheduler.instigation import TickStatus

from tests.pipeline.daemon_support import beat, sensor_ticks


def test_health_ready_and_security_headers(client, instance):
    health = client.get("/health")
    assert health.json() == {"status": "ok"}
    assert health.headers["x-content-type-options"] == "nosniff"
    assert health.headers["x-frame-options"] == "DENY"
    assert client.get("/ready").json() == {"status": "ok", "database": "ok", "dagster": "ok"}
    assert client.get("/openapi.json").json()["paths"].keys() >= {
        "/api/v1/auth/login",
        "/api/v1/videos/upload-url",
        "/api/v1/videos/jobs",
        "/api/v1/videos/jobs/{job_id}",
    }


def daemon_up(client) -> float:
    """The value of frameforge_dagster_daemon_up in the API's metrics."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("frameforge_dagster_daemon_up "):
            return float(line.split()[1])
    raise AssertionError("frameforge_dagster_daemon_up is not exported")


def test_a_daemon_outage_is_a_metric_not_unreadiness(client, instance):
    """/ready is what the API needs: a silent daemon must not take API pods out of service
    (the chart's readiness probe is /ready); it is reported, and alerted on, by itself."""
    assert client.get("/ready").status_code == 200  # no daemon at all
    assert daemon_up(client) == 0
    beat(instance)
    assert daemon_up(client) == 1
    beat(instance, seconds_ago=600)  # stopped reporting
    assert daemon_up(client) == 0
    assert client.get("/ready").status_code == 200


@pytest.mark.parametrize(
    ("ticks", "up"),
    [
        ((TickStatus.FAILURE,) * 3, 0),
        ((TickStatus.FAILURE, TickStatus.FAILURE, TickStatus.SUCCESS), 1),
        ((TickStatus.SUCCESS, TickStatus.FAILURE, TickStatus.FAILURE), 1),
    ],
)
def test_the_daemon_is_down_while_a_sensor_keeps_failing(client, instance, ticks, up):
    beat(instance)
    sensor_ticks(instance, "job_queue", *ticks)
    assert daemon_up(client) == up
    assert client.get("/ready").status_code == 200


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
