"""Behind an ingress: the per-address limits count each client, not the ingress, when
uvicorn runs as the chart runs it (``--proxy-headers --forwarded-allow-ips <api.
forwardedAllowIps>``, its default the VPC's 10.0.0.0/16): uvicorn's own middleware, with
the chart's value, in front of the app."""

from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from tests.api.conftest import problem

CHART_DEFAULT = "10.0.0.0/16"  # deploy/helm/frameforge/values.yaml: api.forwardedAllowIps
REFRESH = {"refreshToken": "not a token"}


def refresh(client: TestClient, forwarded_for: str) -> int:
    answer = client.post(
        "/api/v1/auth/refresh", json=REFRESH, headers={"X-Forwarded-For": forwarded_for}
    )
    return answer.status_code


def test_clients_behind_one_ingress_are_counted_apart(instance, storage, database_url):
    settings = Settings(JWT_SECRET="f" * 40, auth_requests_per_minute=5)
    app = create_app(settings, instance, storage, database_url)
    ingress = TestClient(
        ProxyHeadersMiddleware(app, trusted_hosts=CHART_DEFAULT), client=("10.0.3.4", 40000)
    )
    for _ in range(5):
        assert refresh(ingress, "203.0.113.9") == 401
    assert refresh(ingress, "203.0.113.9") == 429
    # another client through the same ingress is not limited by the first one's requests
    assert refresh(ingress, "198.51.100.20") == 401
    # a header the first client forged is kept by the ingress, which adds the real address:
    # the rightmost untrusted address is the client's, so it is still refused
    assert refresh(ingress, "198.51.100.77, 203.0.113.9") == 429
    # a load balancer in front of the ingress (also in the VPC) is skipped the same way
    assert refresh(ingress, "203.0.113.9, 10.0.1.17") == 429


def test_a_header_from_outside_the_trusted_addresses_is_ignored(instance, storage, database_url):
    settings = Settings(JWT_SECRET="f" * 40, auth_requests_per_minute=5)
    app = create_app(settings, instance, storage, database_url)
    direct = TestClient(
        ProxyHeadersMiddleware(app, trusted_hosts=CHART_DEFAULT), client=("192.0.2.50", 40000)
    )
    for n in range(5):  # a new address in every header: all counted as the caller's own
        assert refresh(direct, f"198.51.100.{n}") == 401
    answer = direct.post(
        "/api/v1/auth/refresh", json=REFRESH, headers={"X-Forwarded-For": "1.1.1.1"}
    )
    assert problem(answer)[0] == 429
