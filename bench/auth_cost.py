"""What authenticating a request costs: the API's own time per authenticated request.

    python bench/auth_cost.py [--requests 2000] [--rounds 5] [--postgres]

An app on a scratch database (SQLite, or PostgreSQL with ``--postgres``), one user signed in
through the API, and ``--requests`` calls of two routes through ``TestClient`` in each of
``--rounds`` rounds (the best round is shown, in CPU microseconds per request, the test
client's included):

- ``GET /videos/jobs/{id}`` of a job that is not there: the JWT check, the caller's row and
  the job in one query (``jobs.owned``), the rate limiter, a 404;
- ``GET /videos/jobs``: the same check through ``get_current_user``, then an empty page.

Its login is refreshed ``--refreshes`` times first (a page left open for a day refreshes
once an hour, each a row of the login's family), and other users' logins fill the table.
To compare two versions of the code, run it with ``PYTHONPATH`` pointing at each checkout:
the script uses only the public API and the app factory.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from fastapi.testclient import TestClient

from bench._support import scratch_database
from frameforge_api.core.config import Settings
from frameforge_api.core.rate_limit import MemoryRateLimiter
from frameforge_api.main import create_app
from frameforge_pipeline.resources import LocalFrameStore

PASSWORD = "correct horse 7"


@contextlib.contextmanager
def database(root: Path, postgres: bool) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{root / 'app.db'}"
        return
    with scratch_database("frameforge_auth_cost") as name:
        yield f"postgresql+psycopg://127.0.0.1:5432/{name}"


def signed_in(client: TestClient, email: str, refreshes: int) -> dict[str, str]:
    body = {"email": email, "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    tokens = client.post("/api/v1/auth/login", json=body).json()
    for _ in range(refreshes):
        tokens = client.post(
            "/api/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]}
        ).json()
    return {"Authorization": f"Bearer {tokens['accessToken']}"}


def per_request(client: TestClient, path: str, header: dict[str, str], count: int) -> float:
    """CPU microseconds per request of ``count`` calls of ``path`` (the client's and the
    app's: one process; CPU time, not wall time, so other work on the machine counts less)."""
    start = time.process_time()
    for _ in range(count):
        client.get(path, headers=header)
    return (time.process_time() - start) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--refreshes", type=int, default=24)
    parser.add_argument("--others", type=int, default=20, help="other users signed in")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    many = 10**9  # no limit in the way: the limiter's own cost is counted all the same
    settings = Settings(JWT_SECRET="b" * 40, auth_requests_per_minute=many,
                        registrations_per_hour=many)  # fmt: skip
    unlimited = MemoryRateLimiter(limit=many)
    with (
        tempfile.TemporaryDirectory() as tmp,
        dg.instance_for_test() as instance,
        database(Path(tmp), args.postgres) as url,
    ):
        store = LocalFrameStore(root=str(Path(tmp) / "store"))
        app = create_app(settings, instance, store, url, rate_limiter=unlimited)
        with TestClient(app) as client:
            for n in range(args.others):
                signed_in(client, f"other{n}@example.com", args.refreshes)
            header = signed_in(client, "bench@example.com", args.refreshes)
            routes = {
                "GET /videos/jobs/{id} (404)": f"/api/v1/videos/jobs/{uuid.uuid4()}",
                "GET /videos/jobs (empty)": "/api/v1/videos/jobs",
            }
            for path in routes.values():
                per_request(client, path, header, 200)  # warm up
            print(f"{'PostgreSQL' if args.postgres else 'SQLite'}, best of {args.rounds} "
                  f"rounds of {args.requests} requests")  # fmt: skip
            for name, path in routes.items():
                best = min(
                    per_request(client, path, header, args.requests) for _ in range(args.rounds)
                )
                print(f"  {name:30} {best:7.0f} CPU µs/request")


if __name__ == "__main__":
    main()
