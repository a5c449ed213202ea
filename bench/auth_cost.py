"""What authenticating a request costs: the API's own time per authenticated request.

    python bench/auth_cost.py [--requests 2000] [--rounds 5] [--postgres]

An app on a scratch database (SQLite, or PostgreSQL with ``--postgres``), one user signed in
through the API, and ``--requests`` calls of two routes through ``TestClient`` in each of
``--rounds`` rounds (the best round is shown, in CPU microseconds per request, the test
client's included):

- ``GET /videos/jobs/{id}`` of a job that is not there: the JWT check, the caller's row and
  the job in one query (``jobs.owned``), the rate limiter, a 404;
- ``GET /videos/jobs``: the same check through ``get_current_user``, then an empty page.

Then the caller's query alone, in the same run on the same data (with this checkout's
code): the user's row by id (what a request read before logins could be signed out) against
the row by id while the token's login is live (``accounts.signed_in``), CPU and wall
microseconds per query, best round, and on PostgreSQL its own execution time (EXPLAIN
ANALYZE).

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
from typing import Any

import dagster as dg
import jwt
from fastapi.testclient import TestClient
from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench._support import scratch_database
from frameforge_api.core.config import Settings
from frameforge_api.core.rate_limit import MemoryRateLimiter
from frameforge_api.main import create_app
from frameforge_core.models import User
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
            user_id = client.post("/api/v1/auth/validate", headers=header).json()["userId"]
            login = jwt.decode(header["Authorization"][7:], options={"verify_signature": False})
            queries(app.state.sessions, user_id, login.get("sid"), args)


def queries(sessions: sessionmaker[Session], user_id: str, login: str | None, args: Any) -> None:
    """The caller's row read the two ways, alternating rounds, best round of each."""
    from frameforge_api.services import accounts  # this checkout's (signed_in is new)

    if login is None:
        print("  (this checkout's tokens name no login: the query comparison needs sid)")
        return
    ways = {
        "user by id": select(User).where(User.id == user_id),
        "user by id, login live": select(User).where(accounts.signed_in(user_id, login)),
    }
    best: dict[str, tuple[float, float]] = {}
    with sessions() as session:
        for _ in range(args.rounds):
            for name, query in ways.items():
                cpu, wall = time.process_time(), time.perf_counter()
                for _ in range(args.requests):
                    assert session.scalars(query).one().id == user_id
                    session.expunge_all()
                cpu = (time.process_time() - cpu) / args.requests * 1e6
                wall = (time.perf_counter() - wall) / args.requests * 1e6
                best[name] = min(best.get(name, (cpu, wall)), (cpu, wall))
        server = {name: server_time(session, query) for name, query in ways.items()}
    for name, (cpu, wall) in best.items():
        inside = "" if server[name] is None else f" {server[name]:7.0f} µs in PostgreSQL"
        print(f"  query: {name:23} {cpu:7.0f} CPU µs {wall:7.0f} wall µs{inside}")


def server_time(session: Session, query: Select[Any]) -> float | None:
    """PostgreSQL's own execution time of ``query`` (EXPLAIN ANALYZE, best of 50), in µs:
    the client's CPU and a loaded machine's scheduling left out. None on SQLite."""
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        return None
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    plans = [
        session.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")).scalar_one()[0]
        for _ in range(50)
    ]
    return min(float(plan["Execution Time"]) for plan in plans) * 1000


if __name__ == "__main__":
    main()
