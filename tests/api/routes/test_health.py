def test_health_ready_and_security_headers(client):
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


def test_openapi_documents_errors_as_problem_json(client):
    spec = client.get("/openapi.json").json()
    answer = spec["paths"]["/api/v1/videos/jobs"]["post"]["responses"]
    assert set(answer) >= {"202", "401", "409", "422"}
    assert "application/problem+json" in answer["422"]["content"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
