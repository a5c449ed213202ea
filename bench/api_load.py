"""Load on GET /api/v1/videos/jobs/{id}: many users at once, 1, 2 and 4 API processes.

    python bench/api_load.py [--users 1000] [--live 200] [--workers 1,2,4] [--modes memory,redis]
                             [--sockets shared,own] [--connections 12] [--seconds 10]
                             [--repeat 1] [--profile] [--data DIR]

Data: ``--users`` users each owning one *completed* job (the cache-hit set: an ended job's
state is cached 5 min) and ``--live`` users each owning one *running* or *queued* job (read
live from Dagster on every request). Users, videos and job rows are inserted straight into
the app database (one bcrypt hash shared by all: registering 1,000 users through the API
would take 1,000 x 0.25 s of bcrypt), tokens are minted with the deployment's JWT_SECRET,
and each job's Dagster run is recorded in the instance (``add_run`` with its tags and status,
plus a materialization of ``source_video`` and ``manifest`` for its partition) rather than
executed: the status route reads exactly what a real run leaves for it (run, run record,
materialization events), and executing 1,200 runs would take the whole time budget.

Per configuration (embedded default = SQLite app DB + SQLite Dagster instance, cache and
rate limit in process; ``redis`` = the same with REDIS_URL) it starts N API processes on one
port (PROMETHEUS_MULTIPROC_DIR set to a new empty dir when N > 1), in two ways:

- ``shared``: ``uvicorn frameforge_api.main:app --workers N``. Its workers accept from one
  listening socket, and the kernel hands a burst of new connections to whichever worker is
  awake: a client's (or a proxy's) few keep-alive connections can all land on one worker
  while the others idle.
- ``own``: N single-worker uvicorn processes, each on its own SO_REUSEPORT socket of the
  port; the kernel spreads connections over them by their address, as a Service spreads
  them over N single-worker pods.

It warms every process's cache, then drives it with ``wrk`` (one thread, a Lua
script rotating over the users' tokens and their job ids, ``--connections`` keep-alive
connections, closed loop) for ``--seconds``. The load generator shares the 2 cores with the
server: the table shows the CPU wrk used and the server's CPU seconds per request (which does
not depend on the client), and cache hits/misses from the API's own /metrics during the run.

In ``redis`` mode every cache-hit job's state is first put in Redis for an hour by the API's
own code (``prewarm``): warming each worker through HTTP costs a Dagster read per job, and
on the embedded instance the first read of a run is slow (see ``prewarm``). ``--data DIR``
keeps the data, tokens and cached states for the next run: to compare two versions of the
code, run each on the same DIR in turn (``PYTHONPATH`` pointing at each checkout).

``--profile`` then samples one worker (1 worker; Redis with ``--modes redis``, else the
embedded default) with py-spy under the same load and prints where the time goes per
request, by part of the request.
Outputs (wrk's JSON, server logs, the profile) go to bench/out/api_load/.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import children, clear_redis, cpu_seconds, free_port, table, wait_url

OUT = Path(__file__).resolve().parent / "out" / "api_load"
REDIS_URL = "redis://127.0.0.1:6379/13"
BASELINE = {"rps": 536.0, "p50": 14.0, "p99": 103.0}  # earlier: 60 users, one worker

WRK_SCRIPT = r"""
-- rotates over "token jobid" lines; counts every response's status
local lines = {}
for line in io.lines(os.getenv("BENCH_TARGETS")) do
  local token, job = line:match("(%S+) (%S+)")
  lines[#lines + 1] = {"Bearer " .. token, "/api/v1/videos/jobs/" .. job}
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
local i = 0
statuses = {}
function init(args) math.randomseed(os.time()); i = math.random(#lines) end
function request()
  i = i % #lines + 1
  local target = lines[i]
  return wrk.format("GET", target[2], {["Authorization"] = target[1]})
end
function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end
function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      counts[#counts + 1] = string.format('"%s": %d', code, n)
    end
  end
  local e = summary.errors
  io.stderr:write(string.format(
    '{"requests": %d, "duration_us": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(counts, ", ")))
end
"""


# --------------------------------------------------------------------------- data


def prepare(home: Path, users: int, live: int, secret: str) -> tuple[list[str], list[str]]:
    """The app database and the Dagster instance; returns the lines ``token job_id`` of the
    cache-hit set and of the live set."""
    os.environ["FRAMEFORGE_HOME"] = str(home)
    os.environ.pop("DAGSTER_HOME", None)
    os.environ.pop("DAGSTER_PG_URL", None)
    import dagster as dg
    from sqlalchemy import insert

    from frameforge_api.core.security import create_token, hash_password
    from frameforge_core.database import create_db_engine, migrate
    from frameforge_core.models import User, Video, VideoJob
    from frameforge_core.settings import DatabaseSettings, ensure_dagster_home
    from frameforge_pipeline.engine.options import ExtractOptions
    from frameforge_pipeline.gateway import job_runs
    from frameforge_pipeline.partitions import VIDEOS

    ensure_dagster_home()
    engine = create_db_engine(DatabaseSettings().url)
    migrate(engine)
    password = hash_password("bench password 1")
    now = dt.datetime.now(dt.UTC)
    options = ExtractOptions().model_dump()
    plan = [("completed", dg.DagsterRunStatus.SUCCESS)] * users
    plan += [
        (
            "submitted",
            dg.DagsterRunStatus.STARTED if n % 2 == 0 else dg.DagsterRunStatus.NOT_STARTED,
        )
        for n in range(live)
    ]
    user_rows, video_rows, job_rows, hit, live_lines = [], [], [], [], []
    runs = []
    for n, (row_status, run_status) in enumerate(plan):
        user_id, video_id, job_id, run_id = (str(uuid.uuid4()) for _ in range(4))
        user_rows.append(
            {"id": user_id, "email": f"load-{n}-{user_id[:8]}@example.com",
             "password_hash": password, "created_at": now}
        )  # fmt: skip
        video_rows.append(
            {"id": video_id, "user_id": user_id, "filename": "clip.mp4",
             "content_type": "video/mp4", "storage_key": f"uploads/{video_id}/clip.mp4",
             "max_bytes": 10**9, "size_bytes": 30_000, "uploaded_at": now, "created_at": now}
        )  # fmt: skip
        job_rows.append(
            {"id": job_id, "attempt": 0, "user_id": user_id, "video_id": video_id,
             "options": options, "status": row_status, "run_id": run_id,
             "frame_count": 2 if row_status == "completed" else None,
             "trace_id": uuid.uuid4().hex, "created_at": now, "updated_at": now}
        )  # fmt: skip
        token = create_token(user_id, "access", secret, dt.timedelta(hours=3), now)
        (hit if row_status == "completed" else live_lines).append(f"{token} {job_id}")
        runs.append((run_id, run_status, job_id, user_id, video_id))
    with engine.begin() as connection:
        connection.execute(insert(User), user_rows)
        connection.execute(insert(Video), video_rows)
        connection.execute(insert(VideoJob), job_rows)
    engine.dispose()

    began = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(VIDEOS, [r[4] for r in runs])
        for run_id, run_status, job_id, user_id, video_id in runs:
            tags = {
                job_runs.JOB_ID_TAG: job_id, job_runs.ATTEMPT_TAG: "0",
                job_runs.USER_ID_TAG: user_id, "dagster/partition": video_id,
            }  # fmt: skip
            instance.add_run(
                dg.DagsterRun(job_name="extract_video", run_id=run_id, status=run_status, tags=tags)
            )
            facts = {"container": "mp4", "codec": "h264", "width": 320, "height": 240,
                     "fps": 25.0, "duration_s": 2.0}  # fmt: skip
            instance.report_runless_asset_event(
                dg.AssetMaterialization("source_video", partition=video_id, metadata=facts)
            )
            if run_status == dg.DagsterRunStatus.SUCCESS:
                instance.report_runless_asset_event(
                    dg.AssetMaterialization("manifest", partition=video_id,
                                            metadata={"frame_count": 2})
                )  # fmt: skip
        # A real run writes its event log (on SQLite: one file per run, made on first use);
        # make each run's now, as a run would, rather than inside the first status request.
        for run_id, *_ in runs:
            instance.all_logs(run_id)
    print(f"data          {users} completed + {live} live jobs, runs recorded in "
          f"{time.perf_counter() - began:.1f} s", flush=True)  # fmt: skip
    return hit, live_lines


def prewarm(home: Path, hit: list[str]) -> None:
    """Every cache-hit job's state in the Redis cache for an hour, read by the API's own code
    (``jobs.state`` through a ``RedisCache``), so that every Redis configuration measures
    hits from its first request. On the embedded (SQLite) Dagster instance a first read of
    each run costs an Alembic revision check of its event log file (~0.1 s of CPU), which
    on a busy machine makes warming 600 jobs per worker take minutes. A job already cached
    is a hit here: running it again costs nothing."""
    import dagster as dg
    import redis
    from sqlalchemy import select

    from frameforge_api.core.cache import RedisCache
    from frameforge_api.services import jobs
    from frameforge_core.database import create_db_engine, session_factory
    from frameforge_core.models import VideoJob
    from frameforge_core.settings import DatabaseSettings

    os.environ["FRAMEFORGE_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    os.environ.pop("DATABASE_URL", None)
    ids = [line.split()[1] for line in hit]
    engine = create_db_engine(DatabaseSettings().url)
    cache = RedisCache(redis.Redis.from_url(REDIS_URL), ttl=3600)
    began = time.perf_counter()
    with dg.DagsterInstance.get() as instance, session_factory(engine)() as session:
        for job in session.scalars(select(VideoJob).where(VideoJob.id.in_(ids))):
            jobs.state(instance, job, cache)
    engine.dispose()
    print(f"prewarm       {len(ids)} job states in Redis in {time.perf_counter() - began:.1f} s")


# --------------------------------------------------------------------------- server


# One uvicorn process on its own SO_REUSEPORT socket of a shared port: N of them are what N
# single-worker pods behind a Service get (the kernel spreads connections by their 4-tuple).
OWN_SOCKET = """
import socket, sys, uvicorn
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
uvicorn.Server(uvicorn.Config("frameforge_api.main:app", access_log=False)).run([listener])
"""


@contextlib.contextmanager
def server(
    home: Path, workers: int, sockets: str, redis_url: str | None, log: Path
) -> Iterator[tuple[str, list[int]]]:
    """``workers`` API processes on one port; yields the base URL and every server pid.

    ``sockets="shared"``: ``uvicorn --workers N``, whose workers accept from one listening
    socket. ``"own"``: N single-worker uvicorn processes, each on its own SO_REUSEPORT socket.
    """
    port = free_port()
    env = dict(os.environ)
    env.update(FRAMEFORGE_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    prom = None
    if workers > 1:  # /metrics adds up every process's cache counts
        prom = Path(tempfile.mkdtemp(prefix="prom-", dir=home))
        env["PROMETHEUS_MULTIPROC_DIR"] = str(prom)
    if sockets == "own":
        commands = [[sys.executable, "-c", OWN_SOCKET, str(port)]] * workers
    else:
        commands = [[sys.executable, "-m", "uvicorn", "frameforge_api.main:app", "--host",
                     "127.0.0.1", "--port", str(port), "--no-access-log",
                     "--workers", str(workers)]]  # fmt: skip
    with log.open("ab") as output:
        processes = [
            subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
            for command in commands
        ]
    try:
        for process in processes:  # /health: /ready wants a daemon
            wait_url(f"http://127.0.0.1:{port}/health", process=process)
        pids = [process.pid for process in processes]
        if sockets == "shared" and workers > 1:  # every worker up, not only the first
            deadline = time.monotonic() + 60
            while len(children(pids[0])) < workers and time.monotonic() < deadline:
                time.sleep(0.2)
            pids += children(pids[0])
        time.sleep(2)  # every process has built its app (the first answer says only one did)
        yield f"http://127.0.0.1:{port}", pids
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if prom:
            shutil.rmtree(prom, ignore_errors=True)


def cache_counts(base: str) -> tuple[float, float]:
    text = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()

    def total(name: str) -> float:
        return sum(float(m) for m in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))

    return total("cache_hits_total"), total("cache_misses_total")


def wrk(base: str, targets: Path, connections: int, seconds: float, name: str) -> dict:
    script = OUT / "rotate.lua"
    script.write_text(WRK_SCRIPT)
    env = dict(os.environ, BENCH_TARGETS=str(targets))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s",
               "-s", str(script), base]  # fmt: skip
    began = time.perf_counter()
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        out, err = p.communicate(timeout=seconds + 60)
    wall = time.perf_counter() - began
    (OUT / f"{name}.wrk.txt").write_text(out.decode() + err.decode())
    line = [x for x in err.decode().splitlines() if x.startswith("{")]
    if not line:
        raise RuntimeError(f"wrk printed no summary: {err.decode()[-500:]}")
    result: dict = json.loads(line[-1])
    result["wall"] = wall
    return result


def wrk_cpu() -> float:
    """CPU seconds used by finished children of this process (wrk runs)."""
    usage = os.times()
    return usage.children_user + usage.children_system


def run_config(
    home: Path,
    mode: str,
    workers: int,
    sockets: str,
    sets: dict[str, Path],
    args: argparse.Namespace,
) -> list[list[object]]:
    rows: list[list[object]] = []
    redis_url = REDIS_URL if mode == "redis" else None
    if redis_url:  # the cache stays: prewarm() filled it with what the API would cache
        clear_redis(REDIS_URL, ("frameforge:rate:*",))
    name = f"{mode}-{workers}-{sockets}"
    log = OUT / f"server-{name}.log"
    with server(home, workers, sockets, redis_url, log) as (base, pids):
        for set_name, targets in sets.items():
            if set_name == "hit":  # every process must have cached every job once
                for round_ in range(20):
                    before = cache_counts(base)
                    wrk(base, targets, args.connections, 3, f"warm-{name}-{round_}")
                    if cache_counts(base)[1] == before[1]:  # a round without a miss
                        break
            else:
                wrk(base, targets, args.connections, 2, f"warm-{name}-live")
            for repeat in range(args.repeat):  # each run connects anew: another spread
                before_cache = cache_counts(base)
                cpu0, wrk0 = [cpu_seconds([pid]) for pid in pids], wrk_cpu()
                result = wrk(
                    base, targets, args.connections, args.seconds, f"{name}-{set_name}-{repeat}"
                )
                cpu1, wrk1 = [cpu_seconds([pid]) for pid in pids], wrk_cpu()
                after_cache = cache_counts(base)
                hits, misses = after_cache[0] - before_cache[0], after_cache[1] - before_cache[1]
                row = _row(mode, workers, sockets, set_name, result, cpu0, cpu1, wrk1 - wrk0)
                rows.append([*row, f"{hits:.0f}/{misses:.0f}"])
                print(table(rows[-1:], HEADER), flush=True)
                if redis_url:
                    clear_redis(REDIS_URL, ("frameforge:rate:*",))
    return rows


def _row(
    mode: str,
    workers: int,
    sockets: str,
    set_name: str,
    result: dict,
    cpu0: list[float],
    cpu1: list[float],
    wrk_seconds: float,
) -> list[object]:
    seconds = result["duration_us"] / 1e6
    requests = result["requests"]
    bad = sum(n for code, n in result["statuses"].items() if code != "200")
    socket_errors = sum(int(v) for k, v in result["errors"].items() if k != "status")
    used = [after - before for before, after in zip(cpu0, cpu1, strict=True)]
    total = sum(used)
    # each serving process's share of the server's CPU (uvicorn's supervisor serves nothing)
    split = sorted((u / total * 100 for u in used if u > 0.01 * total), reverse=True)
    return [
        mode, workers, sockets, set_name, requests, f"{requests / seconds:.0f}",
        f"{result['p50'] / 1000:.1f}", f"{result['p95'] / 1000:.1f}",
        f"{result['p99'] / 1000:.1f}", f"{result['max'] / 1000:.0f}",
        f"{bad}+{socket_errors}", f"{total / requests * 1000:.2f}",
        f"{total / seconds * 100:.0f}%", "/".join(f"{share:.0f}" for share in split),
        f"{wrk_seconds / seconds * 100:.0f}%",
    ]  # fmt: skip


HEADER = ["mode", "workers", "sockets", "set", "requests", "req/s", "p50 ms", "p95 ms",
          "p99 ms", "max ms", "errors", "srv CPU ms/req", "srv CPU", "CPU split %",
          "wrk CPU", "cache hit/miss"]  # fmt: skip


# --------------------------------------------------------------------------- profile

CATEGORIES = [  # (label, substring of a frame); a sample counts toward every label in its stack
    ("uvicorn: HTTP parse + ASGI glue", "uvicorn/protocols/http"),
    ("TelemetryMiddleware (ids, metrics, log)", "frameforge_api/core/telemetry.py"),
    ("  access log line (logging + JSON)", "logging/__init__.py"),
    ("  prometheus counters/histogram", "prometheus_client/"),
    ("SecurityHeadersMiddleware", "frameforge_api/main.py"),
    ("BodyLimit/PathGuard/InFlightLimit middlewares", "frameforge_api/core/guards.py"),
    ("ExceptionMiddleware/routing", "starlette/routing.py"),
    ("fastapi dependency solving", "solve_dependencies"),
    ("threadpool hand-off (anyio to_thread)", "anyio/to_thread.py"),
    ("JWT decode (get_token_claims)", "get_token_claims"),
    ("bcrypt", "bcrypt"),
    ("get_current_user (User by id + limiter)", "get_current_user"),
    ("  rate limiter hit", "frameforge_api/core/rate_limit.py"),
    ("get_owned_job (job row by id; before)", "get_owned_job"),
    ("jobs.owned (user id + job row, one query)", "owned (frameforge_api/services/jobs.py"),
    ("redis client", "redis/"),
    ("get_session (session open/close)", "get_session"),
    ("SQLAlchemy (all)", "sqlalchemy/"),
    ("sqlite3 driver", "sqlite3"),
    ("jobs.state: cache read", "frameforge_api/core/cache.py"),
    ("jobs.state: Dagster reads (miss/live)", "frameforge_pipeline/gateway/job_runs.py"),
    ("_view: JobOut + ExtractOptions + signed URL", "_view (frameforge_api"),
    ("  signing.download_url", "frameforge_core/signing.py"),
    ("response validation + JSON (serialize_response)", "serialize_response"),
]


def profile(home: Path, targets: Path, args: argparse.Namespace) -> None:
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        print("profile       skipped: `pip install py-spy` into the venv")
        return
    raw = OUT / "profile.raw.txt"
    log = OUT / "server-profile.log"
    redis_url = REDIS_URL if args.modes == "redis" else None  # prewarmed: no warm-up needed
    with server(home, 1, "shared", redis_url, log) as (base, (pid,)):
        for round_ in range(30):  # until every job is cached: this profiles cache hits
            before = cache_counts(base)
            wrk(base, targets, args.connections, 3, f"warm-profile-{round_}")
            after = cache_counts(base)
            if after[1] - before[1] <= 0.001 * max(
                1.0, after[0] - before[0] + after[1] - before[1]
            ):
                break
        seconds = max(args.seconds, 15)
        spy_process = subprocess.Popen(
            [str(spy), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "250", "-f", "raw",
             "-o", str(raw), "--nonblocking", "--threads", "--gil"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(0.5)
        cpu0 = cpu_seconds([pid])
        result = wrk(base, targets, args.connections, seconds - 1, "profile")
        cpu1 = cpu_seconds([pid])
        spy_process.wait(60)
    requests = result["requests"]
    cpu_per_request_us = (cpu1 - cpu0) / requests * 1e6
    samples: list[tuple[str, int]] = []
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((stack, int(count)))
    total = sum(n for _, n in samples)
    threads: Counter[str] = Counter()
    for stack, n in samples:
        threads[stack.split(";", 1)[0]] += n
    print(f"\nprofile       1 worker, {'Redis' if redis_url else 'embedded default'}, cache hits, "
          f"{requests} requests in "
          f"{seconds - 1:g} s ({requests / (seconds - 1):.0f} req/s under py-spy), "
          f"{cpu_per_request_us:.0f} us CPU per request; {total} samples")  # fmt: skip
    print("  samples by thread: " + ", ".join(f"{t[:40]} {n * 100 / total:.0f}%"
                                              for t, n in threads.most_common(4)))  # fmt: skip
    rows = []
    for label, needle in CATEGORIES:
        n = sum(c for stack, c in samples if needle in stack)
        share = n / total if total else 0
        rows.append([label, f"{share * 100:.1f}%", f"{share * cpu_per_request_us:.0f}"])
    print(table(rows, ["part of the request (inclusive)", "samples", "~us/req"]))
    leaf: Counter[str] = Counter()
    for stack, n in samples:
        frame = stack.rsplit(";", 1)[-1]
        leaf[re.sub(r":\d+\)", ")", frame)] += n
    print("  top self frames:")
    for frame, n in leaf.most_common(15):
        print(f"    {n * 100 / total:5.1f}%  {frame[:110]}")
    print(f"  raw stacks: {raw}")


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000, help="users with a completed job")
    parser.add_argument("--live", type=int, default=200, help="users with a running/queued job")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument(
        "--sockets",
        default="shared,own",
        help="with more than 1 worker: shared (uvicorn --workers N: one listening socket) "
        "and/or own (N uvicorn processes, each on its own SO_REUSEPORT socket)",
    )
    parser.add_argument("--modes", default="memory,redis", help="memory (embedded), redis")
    parser.add_argument(
        "--connections",
        type=int,
        default=12,
        help="keep it below the app DB pool (5 + 10 overflow): see the report",
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--repeat", type=int, default=1, help="measured runs per configuration and set"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-only", action="store_true")
    parser.add_argument(
        "--data",
        help="keep the data (users, jobs, runs, tokens valid 3 h) in this dir and reuse it on "
        "the next run: compares two versions of the code on the same data without preparing "
        "it again (it holds tokens: delete it after)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("needs wrk: apt-get install wrk")
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ["FRAMEFORGE_LOG_LEVEL"] = os.environ.get("FRAMEFORGE_LOG_LEVEL", "INFO")
    with contextlib.ExitStack() as stack:
        data = Path(args.data) if args.data else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="api-load-")))  # fmt: skip
        home = data / "home"
        saved = data / "targets.json"
        if saved.exists():  # --data: the users, jobs and tokens of an earlier run
            secret, hit, live = json.loads(saved.read_text())
            os.environ["JWT_SECRET"] = secret
            print(f"data          reused from {data}: {len(hit)} completed + {len(live)} live")
        else:
            secret = os.environ["JWT_SECRET"] = uuid.uuid4().hex * 2
            hit, live = prepare(home, args.users, args.live, secret)
            if args.data:
                saved.write_text(json.dumps([secret, hit, live]))
        sets = {"hit": OUT / "targets-hit.txt", "live": OUT / "targets-live.txt"}
        sets["hit"].write_text("\n".join(hit) + "\n")
        sets["live"].write_text("\n".join(live) + "\n")
        if not live:
            del sets["live"]
        rows: list[list[object]] = []
        if "redis" in args.modes.split(",") and not args.profile_only:
            prewarm(home, hit)
        if not args.profile_only:
            print(f"load          wrk -t1 -c{args.connections} -d{args.seconds:g}s, "
                  f"{len(hit)} cache-hit users, {len(live)} live users", flush=True)  # fmt: skip
            for mode in args.modes.split(","):
                for workers in (int(w) for w in args.workers.split(",")):
                    for sockets in args.sockets.split(",") if workers > 1 else ["shared"]:
                        rows += run_config(home, mode, workers, sockets, sets, args)
            print("\n" + table(rows, HEADER))
            print("  errors = non-200 answers + socket errors; srv CPU = the server processes' "
                  "CPU (200% = both cores); CPU split = each serving process's share of it; "
                  "wrk CPU = the load generator's")  # fmt: skip
            for row in rows:
                if row[0] == "memory" and row[1] == 1 and row[3] == "hit":
                    print(f"  vs earlier (60 users, 1 worker: {BASELINE['rps']:.0f} req/s, p50 "
                          f"{BASELINE['p50']:.0f} ms, p99 {BASELINE['p99']:.0f} ms): "
                          f"{float(str(row[5])) / BASELINE['rps']:.2f}x req/s, p99 "
                          f"{float(str(row[8])) / BASELINE['p99']:.2f}x")  # fmt: skip
        if args.profile or args.profile_only:
            if args.modes == "redis":
                prewarm(home, hit)
            profile(home, sets["hit"], args)
        patterns = ["frameforge:rate:*"]
        if not args.data:  # with --data the cached states stay, for the next run on that data
            patterns.append("frameforge:cache:job-state:*")
        clear_redis(REDIS_URL, patterns)
        for path in OUT.glob("targets-*.txt"):  # tokens: not kept
            path.unlink()


if __name__ == "__main__":
    main()
