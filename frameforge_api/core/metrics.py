"""The API's Prometheus metrics and their exposition, right with one worker or several.

Counters of this process (HTTP, auth, cache, rate limit) are prometheus_client objects.
With ``PROMETHEUS_MULTIPROC_DIR`` set (several uvicorn workers), prometheus_client keeps
them in files in that directory and ``exposition`` adds up every worker's files; without
it they live in the default registry. The variable must be set before the process starts
and the directory emptied before the workers start (see the prometheus_client docs).

What other processes do (runs, notifications, the queue) is read from the application
database at scrape time by ``JobMetricsCollector``, in a registry of each app.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.orm import Session, sessionmaker

from frameforge_api.core.job_metrics import JobMetricsCollector

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "path", "status"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "path"],
)
AUTH_REGISTRATIONS = Counter(
    "auth_registration_attempts_total", "Account registrations, by outcome.", ["status"]
)
AUTH_LOGINS = Counter("auth_login_attempts_total", "Logins, by outcome.", ["status"])
TOKEN_VALIDATIONS = Counter(
    "auth_token_validation_total", "Bearer tokens presented, valid or invalid.", ["status"]
)
CACHE_HITS = Counter("cache_hits_total", "Reads answered by the cache.")
CACHE_MISSES = Counter("cache_misses_total", "Reads the cache could not answer.")
RATE_LIMIT_EXCEEDED = Counter("rate_limit_exceeded_total", "Requests refused with 429.")

# Every outcome is exported from the start, at 0, so rate() and alerts see the series
# before the first event.
for _counter, _outcomes in (
    (AUTH_REGISTRATIONS, ("success", "failure")),
    (AUTH_LOGINS, ("success", "failure")),
    (TOKEN_VALIDATIONS, ("valid", "invalid")),
):
    for _outcome in _outcomes:
        _counter.labels(status=_outcome)


@contextlib.contextmanager
def counted(counter: Counter) -> Iterator[None]:
    """Count the block as ``status="success"``, or ``"failure"`` when it raises."""
    try:
        yield
    except Exception:
        counter.labels(status="failure").inc()
        raise
    counter.labels(status="success").inc()


def database_registry(sessions: sessionmaker[Session]) -> CollectorRegistry:
    """A registry of one app's database metrics (kept out of the global one, since a
    process, a test run for instance, may build many apps)."""
    registry = CollectorRegistry()
    registry.register(JobMetricsCollector(sessions))
    return registry


def exposition(app_registry: CollectorRegistry) -> bytes:
    """The text exposition of this process's metrics (every worker's, in multiprocess
    mode) followed by ``app_registry``'s."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_registry = CollectorRegistry()
        MultiProcessCollector(process_registry)  # type: ignore[no-untyped-call]
    else:
        process_registry = REGISTRY
    return generate_latest(process_registry) + generate_latest(app_registry)
