"""Per request: trace and request ids in, out and in the logs; HTTP metrics by route template."""

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from frameforge_core.logs import JsonFormatter
from tests.api.scrape import increase, scrape

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class Lines(logging.Handler):
    """Formats each record as it is logged, in the context of the call, like the real one."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter("api"))
        self.entries: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append(json.loads(self.format(record)))


@pytest.fixture
def access_log(caplog) -> Iterator[list[dict[str, Any]]]:
    caplog.set_level(logging.INFO, logger="frameforge.api.access")
    lines = Lines()
    logging.getLogger("frameforge.api.access").addHandler(lines)
    yield lines.entries
    logging.getLogger("frameforge.api.access").removeHandler(lines)


def test_the_trace_id_of_a_traceparent_is_echoed_and_logged(client, alice, access_log):
    answer = client.get(
        "/api/v1/videos/jobs",
        headers={"traceparent": TRACEPARENT, "X-Request-Id": "req-1", **alice},
    )
    assert answer.headers["x-trace-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert answer.headers["x-request-id"] == "req-1"
    line = access_log[-1]
    assert (line["traceId"], line["requestId"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "req-1")
    assert line["userId"]  # the dependency that authenticated the request named the user
    assert line["context"]["method"] == "GET"
    assert line["context"]["path"] == "/api/v1/videos/jobs"
    assert line["context"]["status"] == 200
    assert line["context"]["durationMs"] >= 0


def test_x_trace_id_is_used_without_a_traceparent(client):
    assert client.get("/health", headers={"X-Trace-Id": "abc-123"}).headers["x-trace-id"] == (
        "abc-123"
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"},  # all zeros: invalid
        {"traceparent": "garbage", "X-Trace-Id": "has spaces"},
        {"X-Trace-Id": "x" * 65},
    ],
)
def test_without_a_usable_trace_id_a_new_one_is_made(client, headers):
    answer = client.get("/health", headers=headers)
    assert len(answer.headers["x-trace-id"]) == 32
    assert len(answer.headers["x-request-id"]) == 32
    assert answer.headers["x-trace-id"] != answer.headers["x-request-id"]


def test_each_request_gets_its_own_ids(client):
    first, second = client.get("/health"), client.get("/health")
    assert first.headers["x-trace-id"] != second.headers["x-trace-id"]


def test_requests_are_counted_by_route_template_not_by_raw_path(client, alice):
    before = scrape(client)
    for job_id in ("a", "b"):
        assert client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).status_code == 404
    client.get("/no/such/page")
    client.delete("/api/v1/videos/jobs/a", headers=alice)
    after = scrape(client)

    def answered(**labels: str) -> float:
        return increase(before, after, "http_requests_total", **labels)

    template = "/api/v1/videos/jobs/{job_id}"
    assert answered(method="GET", path=template, status="404") == 2
    assert answered(method="GET", path="unmatched", status="404") == 1
    assert answered(method="DELETE", path=template, status="405") == 1
    timed = increase(
        before, after, "http_request_duration_seconds_count", method="GET", path=template
    )
    assert timed == 2
    assert not any("/jobs/a" in dict(labels).get("path", "") for _, labels in after)


def test_an_unhandled_error_is_counted_as_a_500_with_its_route(client, access_log):
    def boom() -> None:
        raise RuntimeError("kaput")

    before = scrape(client)
    client.app.add_api_route("/boom", boom)  # after the first request: its template is found
    answer = TestClient(client.app, raise_server_exceptions=False).get(
        "/boom", headers={"X-Trace-Id": "trace-of-a-500"}
    )
    assert answer.status_code == 500
    assert answer.headers["X-Trace-Id"] == "trace-of-a-500"  # the user can quote it
    after = scrape(client)
    labels = {"method": "GET", "path": "/boom", "status": "500"}
    assert increase(before, after, "http_requests_total", **labels) == 1
    (line,) = [line for line in access_log if line["context"]["path"] == "/boom"]
    assert line["context"]["status"] == 500
