"""Requests generated from our own OpenAPI document (schemathesis): none may end in a 5xx,
on SQLite or on PostgreSQL (which stores no NUL and no integer past 32 bits in ``seq``)."""

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.test_bad_input import database_url  # noqa: F401  (SQLite, then PostgreSQL)
from tests.pipeline.daemon_support import beat


def test_no_generated_request_makes_the_api_fail(client, alice, instance):
    beat(instance)  # a running daemon: /ready answers 200, not a 503 for its absence
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, suppress_health_check=list(HealthCheck), deadline=None)
        def answers_without_a_server_error(case):
            response = case.call(headers=alice)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path}: {response.text}"
            )

        answers_without_a_server_error()
