"""A burst of jobs through the production configuration: all complete, none twice, how fast.

    python bench/burst.py [--jobs 200] [--users 20] [--seconds 2] [--size 320x240]
                          [--timeout 1800] [--no-s3] [--imports-only]

Starts, on loopback and all of its own: two scratch PostgreSQL databases (the app's and the
Dagster instance's, DAGSTER_PG_URL), a RabbitMQ vhost, Redis db 12, a moto S3 server with
two buckets (``--no-s3``: the local store), then ``frameforge up`` (API, Dagster webserver,
daemon, worker) in the production configuration (email as .eml files: no SMTP). It
registers ``--users`` users, uploads one generated clip per job through the signed URLs,
then POSTs every job as fast as 8 threads can, and waits for the job rows to end. The run
queue keeps the packaged ``max_concurrent_runs: 2``.

Checks: every job completed (API), exactly one Dagster run per job attempt (tag search),
exactly one ``frames_zip`` materialization per partition, one ZIP per video in the store.
Figures: total time, runs per minute, and per run, from its events: POST -> run created
(sensor), created -> dequeued (run queue), dequeued -> process started (launch), the run's
wall time vs. the time in its steps and in ``frames`` (the extraction), run end -> row
recorded (outcome sensor). First, the import time of the code location
(``python -X importtime -c "import frameforge_pipeline.definitions"``), split into Dagster's
and ours. Everything it created is removed at the end; logs in bench/out/burst/.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import (
    clear_redis,
    free_port,
    pct,
    pg_user,
    scratch_database,
    scratch_vhost,
    table,
    wait_url,
)

OUT = Path(__file__).resolve().parent / "out" / "burst"
REDIS_URL = "redis://127.0.0.1:6379/12"
EARLIER = "earlier: 60 tiny jobs, embedded default, 34 jobs/min, median 48 s each"


# --------------------------------------------------------------------------- imports


def import_times(env: dict[str, str], repeats: int = 5) -> None:
    python = sys.executable
    code = "import frameforge_pipeline.definitions"

    def wall(statement: str) -> float:
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            subprocess.run([python, "-c", statement], env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - began)
        return statistics.median(times)

    bare = wall("pass")
    dagster_only = wall("import dagster")
    dagster_aws = wall("import dagster, dagster_aws.s3, dagster_postgres")
    full = wall(code)
    # what a run imports in all: its steps need these whether they load at definition time
    # or on first use, so making them lazy moves their cost within a run, it does not remove it
    run = wall(f"{code}; import av, cv2, numpy, pyarrow.parquet")
    result = subprocess.run([python, "-X", "importtime", "-c", code], env=env,
                            capture_output=True, text=True, check=True)  # fmt: skip
    (OUT / "importtime.txt").write_text(result.stderr)
    nodes = []  # (depth, module, self_us, cumulative_us)
    for line in result.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)", line)
        if m:
            nodes.append((len(m.group(3)) // 2, m.group(4), int(m.group(1)), int(m.group(2))))
    # -X importtime prints children before their parent: walk backwards to find parents
    owner_of: list[str] = [""] * len(nodes)
    stack: list[tuple[int, str]] = []  # (depth, owner) of the ancestors of the next lines
    for index in range(len(nodes) - 1, -1, -1):
        depth, module, _, _ = nodes[index]
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent_owner = stack[-1][1] if stack else ""
        top = module.split(".")[0]
        mine = (
            "ours"
            if top.startswith("frameforge")
            else "dagster"
            if top.startswith("dagster")
            else ""
        )
        owner = mine or parent_owner
        owner_of[index] = owner or "other"
        stack.append((depth, owner))
    buckets: collections.Counter[str] = collections.Counter()
    third_party_via_ours: collections.Counter[str] = collections.Counter()
    for (_, module, self_us, _), owner in zip(nodes, owner_of, strict=True):
        top = module.split(".")[0]
        if top.startswith("frameforge"):
            buckets["ours: our modules' own code"] += self_us
        elif top.startswith("dagster"):
            buckets["dagster*: own code"] += self_us
        elif owner == "ours":
            buckets["3rd party first imported by ours"] += self_us
            third_party_via_ours[top] += self_us
        elif owner == "dagster":
            buckets["3rd party first imported by dagster"] += self_us
        else:
            buckets["other"] += self_us
    total = sum(buckets.values())
    print(f"\nimport of the code location (median of {repeats} runs, wall, production env)")
    print(table([
        ["python -c pass", f"{bare:.2f}"],
        ["import dagster", f"{dagster_only:.2f}"],
        ["import dagster, dagster_aws.s3, dagster_postgres", f"{dagster_aws:.2f}"],
        ["import frameforge_pipeline.definitions", f"{full:.2f}"],
        ["  + what the steps import (av, cv2, numpy, pyarrow.parquet)", f"{run:.2f}"],
    ], ["command", "s"]))  # fmt: skip
    print(f"  -X importtime, sum of self times {total / 1e6:.2f} s:")
    for name, us in buckets.most_common():
        print(f"    {name:40s} {us / 1e6:6.2f} s  {us * 100 / total:4.0f}%")
    print("  third-party packages first imported by our modules (self time):")
    for name, us in third_party_via_ours.most_common(10):
        print(f"    {name:24s} {us / 1e3:7.0f} ms")
    ours = sorted(
        ((cum, module) for _, module, _, cum in nodes if module.startswith("frameforge")),
        reverse=True,
    )
    print("  our modules by cumulative time (includes what they import first):")
    for cum, module in ours[:12]:
        print(f"    {module:48s} {cum / 1e3:7.0f} ms")


# --------------------------------------------------------------------------- stack


@contextlib.contextmanager
def moto() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_url(f"http://127.0.0.1:{port}", 30, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@contextlib.contextmanager
def production_env(tmp: Path, use_s3: bool) -> Iterator[dict[str, str]]:
    user = pg_user()
    with (
        scratch_database("burst_app") as app_db,
        scratch_database("burst_dagster") as dagster_db,
        scratch_vhost("burst") as vhost,
        moto() if use_s3 else contextlib.nullcontext("") as endpoint,
    ):
        env = {
            "FRAMEFORGE_HOME": str(tmp / "home"),
            "FRAMEFORGE_ENV": "production",
            "JWT_SECRET": uuid.uuid4().hex * 2,
            "DATABASE_URL": f"postgresql+psycopg://{user}@127.0.0.1:5432/{app_db}",
            "DAGSTER_PG_URL": f"postgresql://{user}@127.0.0.1:5432/{dagster_db}",
            "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}",
            "REDIS_URL": REDIS_URL,
            # a burst from one address and a few users: lift the per-address auth limits and
            # per-user quotas (being added in the tree), not what is measured here
            "FRAMEFORGE_REGISTRATIONS_PER_HOUR": "100000",
            "FRAMEFORGE_AUTH_REQUESTS_PER_MINUTE": "100000",
            "FRAMEFORGE_QUOTA_CONCURRENT_JOBS": "100000",
        }
        if endpoint:
            import boto3

            suffix = uuid.uuid4().hex[:10]
            env |= {
                "FRAMEFORGE_S3_ENDPOINT_URL": endpoint,
                "FRAMEFORGE_S3_UPLOADS_BUCKET": f"uploads-{suffix}",
                "FRAMEFORGE_S3_RESULTS_BUCKET": f"results-{suffix}",
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip
            for bucket in (
                env["FRAMEFORGE_S3_UPLOADS_BUCKET"],
                env["FRAMEFORGE_S3_RESULTS_BUCKET"],
            ):
                s3.create_bucket(Bucket=bucket)
        saved = {k: os.environ.get(k) for k in [*env, "DAGSTER_HOME"]}
        os.environ.update(env)
        os.environ.pop("DAGSTER_HOME", None)
        try:
            yield env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            clear_redis(REDIS_URL)


# --------------------------------------------------------------------------- burst


def burst(args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> None:
    import httpx
    import psycopg

    from frameforge.demo import running_stack
    from frameforge_pipeline.samples import write_clip

    width, height = (int(v) for v in args.size.split("x"))
    clip = tmp / "clip.mp4"
    write_clip(clip, seconds=args.seconds, size=(width, height))
    data = clip.read_bytes()
    log = OUT / "stack.log"
    began_stack = time.perf_counter()
    with running_stack(log) as stack, httpx.Client(base_url=stack.api, timeout=60) as client:
        print(f"stack         ready in {time.perf_counter() - began_stack:.1f} s "
              f"(log: {log})", flush=True)  # fmt: skip
        tokens = []
        for n in range(args.users):
            account = {"email": f"burst-{n}-{uuid.uuid4().hex[:6]}@example.com",
                       "password": "burst pass 1"}  # fmt: skip
            client.post("/api/v1/auth/register", json=account).raise_for_status()
            login = client.post("/api/v1/auth/login", json=account)
            tokens.append(login.raise_for_status().json()["accessToken"])

        def upload(n: int) -> tuple[str, str]:
            headers = {"Authorization": f"Bearer {tokens[n % args.users]}"}
            slot = client.post(
                "/api/v1/videos/upload-url",
                headers=headers,
                json={"filename": "clip.mp4", "contentType": "video/mp4", "sizeBytes": len(data)},
            )
            slot.raise_for_status()
            body = slot.json()
            put = httpx.request(body["method"], body["uploadUrl"], content=data,
                                headers=body.get("headers") or {}, timeout=60)  # fmt: skip
            put.raise_for_status()
            return headers["Authorization"], body["videoId"]

        with ThreadPoolExecutor(8) as pool:
            uploads = list(pool.map(upload, range(args.jobs)))
        print(f"uploaded      {args.jobs} clips ({args.seconds:g} s {args.size}, "
              f"{len(data) / 1e3:.0f} kB)", flush=True)  # fmt: skip

        def create(item: tuple[str, str]) -> tuple[str, str, float]:
            auth, video_id = item
            posted = time.time()
            answer = client.post("/api/v1/videos/jobs", headers={"Authorization": auth},
                                 json={"videoId": video_id})  # fmt: skip
            answer.raise_for_status()
            return answer.json()["jobId"], video_id, posted

        first_post = time.time()
        with ThreadPoolExecutor(8) as pool:
            jobs = list(pool.map(create, uploads))
        posted_all = time.time()
        print(f"burst         {args.jobs} POSTs in {posted_all - first_post:.1f} s", flush=True)

        app_url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        deadline = time.monotonic() + args.timeout
        ended_at: dict[str, float] = {}
        last_print = 0.0
        with psycopg.connect(app_url, autocommit=True) as db:
            while time.monotonic() < deadline:
                rows = db.execute(
                    "SELECT id, status, extract(epoch from updated_at) FROM video_jobs"
                ).fetchall()
                counts = collections.Counter(status for _, status, _ in rows)
                for job_id, status, updated in rows:
                    if status in ("completed", "failed", "cancelled"):
                        ended_at.setdefault(job_id, float(updated))
                if time.monotonic() - last_print > 30:
                    last_print = time.monotonic()
                    print(f"  t+{time.time() - first_post:6.0f} s  {dict(counts)}", flush=True)
                if len(ended_at) == len(jobs):
                    break
                time.sleep(1)
            final = {r[0]: r[1] for r in db.execute("SELECT id, status FROM video_jobs")}
        done_at = max(ended_at.values()) if ended_at else time.time()
        statuses = collections.Counter(final.values())
        print(f"ended         {dict(statuses)} of {len(jobs)}; last recorded "
              f"{done_at - first_post:.1f} s after the first POST", flush=True)  # fmt: skip

        api_status: collections.Counter[str] = collections.Counter()
        frames: collections.Counter[Any] = collections.Counter()
        for (job_id, _, _), (auth, _) in zip(jobs, uploads, strict=True):
            answer = client.get(f"/api/v1/videos/jobs/{job_id}", headers={"Authorization": auth})
            body = answer.json()
            api_status[body.get("status", f"HTTP {answer.status_code}")] += 1
            frames[body.get("frameCount")] += 1
        print(f"API says      {dict(api_status)}; frame counts {dict(frames)}")
        analyse(jobs, ended_at, first_post, done_at, env)


def analyse(
    jobs: list[tuple[str, str, float]],
    ended_at: dict[str, float],
    first_post: float,
    done_at: float,
    env: dict[str, str],
) -> None:
    import dagster as dg

    from frameforge_pipeline.gateway import job_runs

    os.environ["DAGSTER_HOME"] = str(Path(env["FRAMEFORGE_HOME"]) / "dagster")
    E = dg.DagsterEventType
    rows: dict[str, list[float]] = collections.defaultdict(list)
    twice, missing = [], []
    starts, ends = [], []
    with dg.DagsterInstance.get() as instance:
        zips = collections.Counter()
        cursor = None
        while True:
            found = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey("frames_zip")), limit=1000,
                cursor=cursor,
            )  # fmt: skip
            for record in found.records:
                zips[record.partition_key] += 1
            if not found.has_more:
                break
            cursor = found.cursor
        for job_id, _video_id, posted in jobs:
            runs = instance.get_runs(filters=dg.RunsFilter(tags={job_runs.JOB_ID_TAG: job_id}))
            per_attempt = collections.Counter(r.tags.get(job_runs.ATTEMPT_TAG) for r in runs)
            if any(n > 1 for n in per_attempt.values()):
                twice.append(job_id)
            if not runs:
                missing.append(job_id)
                continue
            run = runs[0]
            record = instance.get_run_record_by_id(run.run_id)
            events: dict[Any, float] = {}
            steps: dict[str, list[float]] = collections.defaultdict(list)
            for entry in instance.all_logs(run.run_id):
                event = entry.dagster_event
                if event is None:
                    continue
                kind = event.event_type
                if kind in (E.STEP_START, E.STEP_SUCCESS, E.STEP_FAILURE):
                    steps[event.step_key or "?"].append(entry.timestamp)
                else:
                    events.setdefault(kind, entry.timestamp)
            created = record.create_timestamp.timestamp()
            start, end = record.start_time, record.end_time
            if start is None or end is None:
                continue
            starts.append(start)
            ends.append(end)
            dequeued = events.get(E.PIPELINE_DEQUEUED, events.get(E.PIPELINE_STARTING, start))
            starting = events.get(E.PIPELINE_STARTING, dequeued)
            step_time = sum(max(t) - min(t) for t in steps.values() if len(t) >= 2)
            frames_step = steps.get("frames", [0, 0])
            rows["POST -> run created (job_queue sensor)"].append(created - posted)
            rows["run created -> dequeued (run queue)"].append(dequeued - created)
            rows["dequeued -> STARTING"].append(starting - dequeued)
            rows["STARTING -> run started (process launch)"].append(start - starting)
            rows["POST -> run started"].append(start - posted)
            rows["run wall time (start -> end)"].append(end - start)
            rows["  in its steps (sum)"].append(step_time)
            rows["  in 'frames' (extraction)"].append(max(frames_step) - min(frames_step))
            rows["  not in a step (run overhead)"].append(end - start - step_time)
            if job_id in ended_at:
                rows["run end -> row recorded (outcome sensor)"].append(ended_at[job_id] - end)
                rows["POST -> row completed"].append(ended_at[job_id] - posted)
    store_zips = _count_zips(env)
    print(f"\nonce          runs per job attempt > 1: {len(twice)}; jobs without a run: "
          f"{len(missing)}; frames_zip materializations: {sum(zips.values())} over "
          f"{len(zips)} partitions (max {max(zips.values()) if zips else 0} per partition); "
          f"ZIPs in the store: {store_zips}")  # fmt: skip
    span = (max(ends) - min(starts)) if starts else float("nan")
    total = done_at - first_post
    print(f"throughput    {len(jobs)} jobs in {total:.1f} s from the first POST to the last "
          f"outcome recorded: {len(jobs) / total * 60:.1f} jobs/min; runs: first start to last "
          f"end {span:.1f} s = {len(starts) / span * 60:.1f} runs/min")  # fmt: skip
    busy = sum(rows["run wall time (start -> end)"])
    print(
        f"slots         2 run slots busy {busy / (2 * span) * 100:.0f}% of the span with a "
        f"started run; {sum(rows['  in its steps (sum)']) / (2 * span) * 100:.0f}% in steps"
    )
    print(f"  ({EARLIER})\n")
    print(table(
        [[name, f"{statistics.median(v):.2f}", f"{pct(v, 10):.2f}", f"{pct(v, 90):.2f}",
          f"{max(v):.2f}"] for name, v in rows.items() if v],
        ["per run (s)", "median", "p10", "p90", "max"],
    ))  # fmt: skip


def _count_zips(env: dict[str, str]) -> int:
    if "FRAMEFORGE_S3_RESULTS_BUCKET" in env:
        import boto3

        endpoint = env["FRAMEFORGE_S3_ENDPOINT_URL"]
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        count = 0
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=env["FRAMEFORGE_S3_RESULTS_BUCKET"], Prefix="results/"
        ):
            count += sum(1 for o in page.get("Contents", []) if o["Key"].endswith("frames.zip"))
        return count
    root = Path(env["FRAMEFORGE_HOME"]) / "store" / "results"
    return sum(1 for _ in root.glob("*/frames.zip"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=2)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--timeout", type=float, default=1800, help="for the whole burst")
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument("--imports-only", action="store_true")
    parser.add_argument("--no-imports", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.jobs > args.users * 40:
        raise SystemExit("at most 40 jobs per user (rate limit: 100 requests/min per user)")
    with (
        tempfile.TemporaryDirectory(prefix="burst-") as tmp,
        production_env(Path(tmp), not args.no_s3) as env,
    ):
        if not args.no_imports:
            import_times({**os.environ, **env})
        if not args.imports_only:
            burst(args, Path(tmp), env)
    finished = f"{dt.datetime.now():%H:%M:%S}"
    print(f"\ncleaned up    databases, vhost, buckets (moto), temp dir; at {finished}")


if __name__ == "__main__":
    main()
