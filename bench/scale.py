"""Scale: 100,000 video partitions, runs and jobs registered (not run); what gets slow.

    python bench/scale.py [--jobs 100000] [--heavy 10000] [--batch 1000] [--materialized 1000]
                          [--samples 300] [--skip-graphql] [--keep DIR]

On two scratch PostgreSQL databases (app, Dagster instance): ``--jobs`` users, videos and
job rows, bulk-inserted through SQLAlchemy core with the models of frameforge_core.models
after ``migrate``; one user (the "heavy" one) owns ``--heavy`` of the jobs, the others one
each. Statuses: 75% completed, 10% failed, 5% cancelled, 10% submitted (running), none
queued (so the job_queue sensor has nothing to do). ``--jobs`` dynamic partitions are added
with ``instance.add_dynamic_partitions("videos", keys)`` in batches of ``--batch`` (timed),
and every job that is not queued gets the run the daemon would have created, with its tags
(bulk-inserted into the run storage's own tables with the values ``add_run`` writes);
``--materialized`` partitions get materializations of source_video, frames and manifest.

Then it times: GET one job through the API app (TestClient on create_app, first read and
cached read, by status); the job list of the heavy user (first page, a deep page by
cursor); one ``job_queue`` sensor evaluation with nothing to do (database source, and
RabbitMQ on a scratch vhost); instance calls that grow with partitions; and the GraphQL
queries of the Dagster asset page for ``frames`` against ``dagster-webserver -m
frameforge_pipeline.definitions`` on that instance. EXPLAIN ANALYZE of the SQL behind the
slow ones goes to bench/out/scale/explain.txt. Databases, vhost and temp dir are removed,
unless ``--keep DIR``: then the databases stay (named in DIR/scale.json) and the next run with
the same DIR measures on them without registering again, to compare two versions of the
code (``PYTHONPATH`` pointing at each checkout) on the same 100,000 rows.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import (
    free_port,
    pg_user,
    scratch_database,
    scratch_vhost,
    summary_ms,
    table,
    wait_url,
)

OUT = Path(__file__).resolve().parent / "out" / "scale"
MIX = [("completed", 0.75), ("failed", 0.10), ("cancelled", 0.05), ("submitted", 0.10)]

PARTITION_HEALTH = """query PartitionHealthQuery($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) { ... on AssetNode { id
    partitionKeysByDimension { name type partitionKeys }
    assetPartitionStatuses { ... on DefaultPartitionStatuses {
      materializedPartitions materializingPartitions failedPartitions } } } } }"""
PARTITION_STATS = """query AssetStats($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) { ... on AssetNode { id
    partitionStats { numMaterialized numMaterializing numFailed numPartitions } } } }"""
PARTITION_COUNT = """query AssetPartitionCount($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) { ... on AssetNode { id
    partitionDefinition { name type dimensionTypes { name dynamicPartitionsDefinitionName } }
  } } }"""
LATEST_MATERIALIZATION = """query AssetLatest($assetKey: AssetKeyInput!) {
  assetOrError(assetKey: $assetKey) { ... on Asset { id
    assetMaterializations(limit: 1) { runId partition timestamp } } } }"""


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return times


# --------------------------------------------------------------------------- data


def populate(args: argparse.Namespace, app_url: str, instance: Any) -> dict[str, Any]:
    import dagster as dg
    from dagster._core.storage.runs.schema import RunsTable, RunTagsTable
    from dagster_shared.serdes import serialize_value
    from sqlalchemy import insert

    from frameforge_api.core.security import hash_password
    from frameforge_core.database import create_db_engine, migrate
    from frameforge_core.models import User, Video, VideoJob
    from frameforge_pipeline.engine.options import ExtractOptions
    from frameforge_pipeline.gateway import job_runs
    from frameforge_pipeline.partitions import VIDEOS

    rng = random.Random(7)
    engine = create_db_engine(app_url)
    migrate(engine)
    password = hash_password("scale password 1")
    now = dt.datetime.now(dt.UTC)
    options = ExtractOptions().model_dump()
    n_users = max(1, args.jobs - args.heavy + 1)
    user_ids = [str(uuid.uuid4()) for _ in range(n_users)]
    statuses = rng.choices([s for s, _ in MIX], [w for _, w in MIX], k=args.jobs)
    jobs = []
    began = time.perf_counter()
    with engine.begin() as connection:
        for start in range(0, n_users, 10_000):
            connection.execute(insert(User), [
                {"id": uid, "email": f"s{start + i}-{uid[:8]}@example.com",
                 "password_hash": password, "created_at": now}
                for i, uid in enumerate(user_ids[start:start + 10_000])])  # fmt: skip
        for start in range(0, args.jobs, 10_000):
            videos, rows = [], []
            for n in range(start, min(args.jobs, start + 10_000)):
                owner = user_ids[0] if n < args.heavy else user_ids[n - args.heavy + 1]
                video_id, job_id = str(uuid.uuid4()), str(uuid.uuid4())
                created = now - dt.timedelta(seconds=args.jobs - n)
                status = statuses[n]
                run_id = str(uuid.uuid4())
                videos.append({"id": video_id, "user_id": owner, "filename": "clip.mp4",
                               "content_type": "video/mp4",
                               "storage_key": f"uploads/{video_id}/clip.mp4",
                               "max_bytes": 10**9, "size_bytes": 30_000,
                               "uploaded_at": created, "created_at": created})  # fmt: skip
                rows.append({"id": job_id, "attempt": 0, "user_id": owner, "video_id": video_id,
                             "options": options, "status": status, "run_id": run_id,
                             "frame_count": 2 if status == "completed" else None,
                             "error": "rejected: not a video" if status == "failed" else None,
                             "trace_id": uuid.uuid4().hex, "created_at": created,
                             "updated_at": created})  # fmt: skip
                jobs.append((job_id, video_id, owner, status, run_id))
            connection.execute(insert(Video), videos)
            connection.execute(insert(VideoJob), rows)
        connection.exec_driver_sql("ANALYZE")
    app_seconds = time.perf_counter() - began

    batch_times = []
    keys = [j[1] for j in jobs]
    for start in range(0, len(keys), args.batch):
        t0 = time.perf_counter()
        instance.add_dynamic_partitions(VIDEOS, keys[start : start + args.batch])
        batch_times.append(time.perf_counter() - t0)

    run_status = {"completed": dg.DagsterRunStatus.SUCCESS, "failed": dg.DagsterRunStatus.FAILURE,
                  "cancelled": dg.DagsterRunStatus.CANCELED,
                  "submitted": dg.DagsterRunStatus.STARTED}  # fmt: skip
    storage = instance.run_storage
    t0 = time.perf_counter()
    for start in range(0, len(jobs), 5_000):
        run_rows, tag_rows = [], []
        for job_id, video_id, owner, status, run_id in jobs[start : start + 5_000]:
            tags = {job_runs.JOB_ID_TAG: job_id, job_runs.ATTEMPT_TAG: "0",
                    job_runs.USER_ID_TAG: owner, "dagster/partition": video_id,
                    "dagster/run_key": f"{job_id}:0",
                    "dagster/sensor_name": "job_queue"}  # fmt: skip
            run = dg.DagsterRun(job_name="extract_video", run_id=run_id,
                                status=run_status[status], tags=tags)  # fmt: skip
            values = {  # what add_run writes (storage._get_run_insertion_values), without
                # its two schema look-ups per run
                "run_id": run_id, "pipeline_name": "extract_video", "status": run.status.value,
                "run_body": serialize_value(run), "snapshot_id": None, "partition": video_id,
                "partition_set": None, "backfill_id": None, "create_timestamp": now,
            }  # fmt: skip
            if status != "submitted":
                values |= {"start_time": now.timestamp() - 20, "end_time": now.timestamp() - 10}
            else:
                values |= {"start_time": now.timestamp() - 5, "end_time": None}
            run_rows.append(values)
            tag_rows += [{"run_id": run_id, "key": k, "value": v}
                         for k, v in run.tags_for_storage().items()]  # fmt: skip
        with storage.connect() as conn:
            conn.execute(RunsTable.insert(), run_rows)
            conn.execute(RunTagsTable.insert(), tag_rows)
    runs_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    completed = [j for j in jobs if j[3] == "completed"]
    for _job_id, video_id, *_ in completed[: args.materialized]:
        facts = {"container": "mp4", "codec": "h264", "width": 320, "height": 240,
                 "fps": 25.0, "duration_s": 2.0}  # fmt: skip
        instance.report_runless_asset_event(
            dg.AssetMaterialization("source_video", partition=video_id, metadata=facts)
        )
        instance.report_runless_asset_event(dg.AssetMaterialization("frames", partition=video_id))
        instance.report_runless_asset_event(
            dg.AssetMaterialization("manifest", partition=video_id, metadata={"frame_count": 2})
        )
    events_seconds = time.perf_counter() - t0
    with storage.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    n = len(batch_times)
    print(table([
        ["app rows (users, videos, jobs)", f"{n_users} / {args.jobs} / {args.jobs}",
         f"{app_seconds:.1f}"],
        [f"add_dynamic_partitions x {n} batches of {args.batch}",
         f"first {batch_times[0] * 1000:.0f} ms, last {batch_times[-1] * 1000:.0f} ms, "
         f"median {statistics.median(batch_times) * 1000:.0f} ms",
         f"{sum(batch_times):.1f}"],
        ["runs + tags (bulk, as add_run writes them)", f"{len(jobs)} runs", f"{runs_seconds:.1f}"],
        ["materializations (report_runless_asset_event)",
         f"{min(len(completed), args.materialized)} partitions x 3 assets",
         f"{events_seconds:.1f}"],
    ], ["registered", "size / per batch", "s"]))  # fmt: skip
    return {
        "jobs": jobs,
        "heavy": user_ids[0],
        "engine": engine,
        "materialized": {j[0] for j in completed[: args.materialized]},
    }


def reload(app_url: str) -> dict[str, Any]:
    """What ``populate`` returns, read back from a kept app database."""
    from sqlalchemy import text

    from frameforge_core.database import create_db_engine

    engine = create_db_engine(app_url)
    with engine.connect() as conn:
        query = "SELECT id, video_id, user_id, status, run_id FROM video_jobs ORDER BY seq"
        jobs = [tuple(row) for row in conn.execute(text(query))]
        heavy = conn.execute(text(
            "SELECT user_id FROM video_jobs GROUP BY user_id ORDER BY count(*) DESC LIMIT 1"
        )).scalar_one()  # fmt: skip
    return {"jobs": jobs, "heavy": heavy, "engine": engine, "materialized": set()}


# --------------------------------------------------------------------------- API


def api_figures(args: argparse.Namespace, data: dict[str, Any], app_url: str, instance: Any,
                store_root: Path) -> None:  # fmt: skip
    from fastapi.testclient import TestClient

    from frameforge_api.core.config import Settings
    from frameforge_api.core.rate_limit import MemoryRateLimiter
    from frameforge_api.core.security import create_token
    from frameforge_api.main import create_app
    from frameforge_pipeline.resources import LocalFrameStore

    settings = Settings()
    app = create_app(settings, instance, LocalFrameStore(root=str(store_root)), app_url,
                     rate_limiter=MemoryRateLimiter(limit=10**9))  # fmt: skip
    now = dt.datetime.now(dt.UTC)

    def token(user: str) -> dict[str, str]:
        access = create_token(user, "access", settings.signing_key, dt.timedelta(hours=2), now)
        return {"Authorization": f"Bearer {access}"}

    rng = random.Random(11)
    sample = rng.sample(data["jobs"], min(args.samples, len(data["jobs"])))
    rows = []
    with TestClient(app) as client:
        by_status: dict[str, dict[str, list[float]]] = {}
        for attempt in ("first read", "second read"):
            for job_id, _, owner, status, _ in sample:
                headers = token(owner)
                t0 = time.perf_counter()
                answer = client.get(f"/api/v1/videos/jobs/{job_id}", headers=headers)
                elapsed = time.perf_counter() - t0
                assert answer.status_code == 200, answer.text
                by_status.setdefault(attempt, {}).setdefault(status, []).append(elapsed)
                by_status[attempt].setdefault("all", []).append(elapsed)
        for attempt, groups in by_status.items():
            for status, values in sorted(groups.items()):
                rows.append([f"GET job ({attempt})", status, summary_ms(values)])
        heavy = token(data["heavy"])
        heavy_jobs = [j for j in data["jobs"] if j[2] == data["heavy"]]
        with data["engine"].connect() as conn:
            from sqlalchemy import text

            seqs = [r[0] for r in conn.execute(
                text("SELECT seq FROM video_jobs WHERE user_id = :u ORDER BY seq"),
                {"u": data["heavy"]})]  # fmt: skip
        deep_cursor = str(seqs[min(len(seqs) - 1, 100)])  # 100 jobs from the oldest
        for limit in (20, 100):
            for label, params in (("first page", {}), ("deep page", {"cursor": deep_cursor})):
                query = {"limit": limit, **params}
                cold = timed(
                    lambda q=query: client.get(
                        "/api/v1/videos/jobs", headers=heavy, params=q
                    ).raise_for_status(),
                    1,
                )
                warm = timed(
                    lambda q=query: client.get(
                        "/api/v1/videos/jobs", headers=heavy, params=q
                    ).raise_for_status(),
                    10,
                )
                rows.append(
                    [
                        f"list limit={limit} {label} ({len(heavy_jobs)} jobs)",
                        "cold",
                        f"{cold[0] * 1000:8.1f} ms",
                    ]
                )
                rows.append(["", "warm x10", summary_ms(warm)])
    print("\n" + table(rows, ["API (TestClient, in process)", "which", "time"]))


# --------------------------------------------------------------------------- sensor


def sensor_figures(app_url: str, instance: Any, store_root: Path) -> None:
    import dagster as dg

    from frameforge_pipeline.definitions import build_definitions
    from frameforge_pipeline.partitions import VIDEOS
    from frameforge_pipeline.resources import AppDatabase, JobQueue, LocalFrameStore
    from frameforge_pipeline.sensors.job_queue import job_queue

    database = AppDatabase(url=app_url)
    defs = build_definitions({"storage": LocalFrameStore(root=str(store_root)),
                              "database": database})  # fmt: skip
    rows = []

    def evaluate(queue: JobQueue) -> dg.SensorResult:
        resources = {"database": database, "jobs": queue}
        context = dg.build_sensor_context(instance=instance, definitions=defs, resources=resources)
        result = job_queue(context)
        assert not result.run_requests, "the sensor found something to do"
        return result

    values = timed(lambda: evaluate(JobQueue()), 20)
    rows.append(["job_queue, database source (nothing queued)", summary_ms(values)])
    with scratch_vhost("scale") as vhost:
        url = f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"
        from frameforge_core import messaging

        connection, _ = messaging.connect(url)  # declares the topology
        connection.close()
        values = timed(lambda: evaluate(JobQueue(rabbitmq_url=url)), 20)
        rows.append(["job_queue, RabbitMQ source (empty queue)", summary_ms(values)])
    from sqlalchemy import text

    from frameforge_pipeline.gateway import job_runs

    with database.session() as session:
        job_ids = list(session.scalars(text("SELECT id FROM video_jobs LIMIT 20")))
    ids = iter(job_ids * 2)
    rows.append(
        [
            "job_runs.attempt_run (tag search: sensor offer, queued job GET)",
            summary_ms(timed(lambda: job_runs.attempt_run(instance, next(ids), 0), 20)),
        ]
    )
    ids = iter(job_ids * 2)
    rows.append(["  the same, job_id tag only (fix; attempt checked in Python)",
                 summary_ms(timed(lambda: instance.get_runs(filters=dg.RunsFilter(
                     tags={job_runs.JOB_ID_TAG: next(ids)})), 20))])  # fmt: skip
    some_key = instance.get_dynamic_partitions(VIDEOS)[-1]
    rows.append(
        [
            "instance.has_dynamic_partition (per new job)",
            summary_ms(timed(lambda: instance.has_dynamic_partition(VIDEOS, some_key), 20)),
        ]
    )
    rows.append(
        [
            "instance.get_dynamic_partitions (all keys)",
            summary_ms(timed(lambda: instance.get_dynamic_partitions(VIDEOS), 5)),
        ]
    )
    from frameforge_pipeline.partitions import videos

    rows.append(["videos.get_partition_keys(instance)",
                 summary_ms(timed(lambda: videos.get_partition_keys(
                     dynamic_partitions_store=instance), 5))])  # fmt: skip
    print("\n" + table(rows, ["sensor / instance", "time"]))


# --------------------------------------------------------------------------- GraphQL


@contextlib.contextmanager
def webserver(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    command = [str(Path(sys.executable).with_name("dagster-webserver")), "-m",
               "frameforge_pipeline.definitions", "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   cwd=env["FRAMEFORGE_HOME"])  # fmt: skip
    try:
        wait_url(f"http://127.0.0.1:{port}/server_info", 180, process)
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def graphql(url: str, query: str, variables: dict[str, Any]) -> tuple[float, int, dict[str, Any]]:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        payload = response.read()
    elapsed = time.perf_counter() - t0
    parsed = json.loads(payload)
    if parsed.get("errors"):
        raise RuntimeError(f"GraphQL errors: {str(parsed['errors'])[:500]}")
    return elapsed, len(payload), parsed


def graphql_figures(env: dict[str, str], repeat: int) -> None:
    rows = []
    with webserver(env, OUT / "webserver.log") as url:
        variables = {"assetKey": {"path": ["frames"]}}
        for name, query in (("PartitionHealthQuery (the UI's, asset partitions tab)",
                             PARTITION_HEALTH),
                            ("partitionStats (asset overview)", PARTITION_STATS),
                            ("partitionDefinition only", PARTITION_COUNT),
                            ("latest materialization", LATEST_MATERIALIZATION)):  # fmt: skip
            times, size = [], 0
            for _ in range(repeat):
                elapsed, size, parsed = graphql(url, query, variables)
                times.append(elapsed)
            node = parsed["data"].get("assetNodeOrError") or {}
            detail = ""
            if "partitionKeysByDimension" in node:
                keys = node["partitionKeysByDimension"][0]["partitionKeys"]
                mat = node["assetPartitionStatuses"]["materializedPartitions"]
                detail = f"{len(keys)} keys, {len(mat)} materialized"
            if "partitionStats" in node:
                detail = str(node["partitionStats"])
            rows.append(
                [
                    name,
                    f"{statistics.median(times) * 1000:.0f}",
                    f"{max(times) * 1000:.0f}",
                    f"{size / 1e6:.2f}",
                    detail[:60],
                ]
            )
    print("\n" + table(rows, ["GraphQL (frames)", "median ms", "max ms", "MB", "answer"]))


# --------------------------------------------------------------------------- EXPLAIN


def explain(app_url: str, dagster_url: str, data: dict[str, Any]) -> None:
    import psycopg

    job_id, video_id, owner, _, _run_id = data["jobs"][len(data["jobs"]) // 2]
    app_queries = {
        "job by id": ("SELECT * FROM video_jobs WHERE id = %s", (job_id,)),
        "user by id": ("SELECT * FROM users WHERE id = %s", (owner,)),
        "list first page (heavy user), ORDER BY seq DESC (before)": (
            "SELECT * FROM video_jobs WHERE user_id = %s ORDER BY seq DESC LIMIT 21",
            (data["heavy"],),
        ),
        "sensor: queued rows": (
            "SELECT * FROM video_jobs WHERE status = 'queued' ORDER BY seq LIMIT 50",
            (),
        ),
        "sensor: stale queued rows (RabbitMQ)": (
            "SELECT * FROM video_jobs WHERE status = 'queued' AND updated_at < now() - "
            "interval '15 minutes' ORDER BY seq LIMIT 50",
            (),
        ),
        "reconciliation: submitted rows": (
            "SELECT * FROM video_jobs WHERE status = 'submitted' AND updated_at < now() - "
            "interval '1 minute' ORDER BY seq LIMIT 100",
            (),
        ),
    }
    import dagster as dg
    from sqlalchemy.dialects import postgresql

    from frameforge_pipeline.gateway import job_runs

    storage = data["instance"].run_storage

    def compiled(tags: dict[str, str]) -> str:  # the SQL get_runs sends
        query = storage._runs_query(dg.RunsFilter(tags=tags), limit=1)
        sql = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        return str(sql).replace("%", "%%")

    from frameforge_api.services import jobs

    if hasattr(jobs, "page_query"):  # the code under test has it (not the code before)
        sent = jobs.page_query("postgresql", data["heavy"], 21, None)
        sql = sent.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        app_queries["list first page (heavy user), as jobs.page sends it"] = (str(sql), ())
    dagster_queries = {
        "attempt_run: get_runs(tags={job_id, attempt}) as Dagster sends it": (
            compiled({job_runs.JOB_ID_TAG: job_id, job_runs.ATTEMPT_TAG: "0"}),
            (),
        ),
        "the same, job_id tag only (fix)": (compiled({job_runs.JOB_ID_TAG: job_id}), ()),
        "has_dynamic_partition": (
            "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'videos' "
            "AND partition = %s",
            (video_id,),
        ),
        "get_dynamic_partitions (all)": (
            "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'videos' "
            "ORDER BY id",
            (),
        ),
    }
    lines = []
    timings = []
    for label, url, queries in (("app", app_url, app_queries),
                                ("dagster", dagster_url, dagster_queries)):  # fmt: skip
        with psycopg.connect(url) as conn:
            for name, (sql, params) in queries.items():
                plan = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)]
                total = next((ln for ln in reversed(plan) if "Execution Time" in ln), "")
                timings.append([label, name, total.replace("Execution Time:", "").strip()])
                lines += [f"== {label}: {name}", sql % tuple(repr(p) for p in params), *plan, ""]
            if label == "dagster":  # the SQL dagster really sends for the tag search
                pass
    (OUT / "explain.txt").write_text("\n".join(lines))
    print("\n" + table(timings, ["db", "query (EXPLAIN ANALYZE)", "execution"]))
    print(f"  plans: {OUT / 'explain.txt'}")


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--heavy", type=int, default=10_000, help="jobs of the one heavy user")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--materialized", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--graphql-repeat", type=int, default=3)
    parser.add_argument("--skip-graphql", action="store_true")
    parser.add_argument(
        "--keep",
        help="keep the databases and data dir (named in DIR/scale.json) and reuse them on the "
        "next run with the same DIR: compares two versions of the code on the same data",
    )
    args = parser.parse_args()
    args.heavy = min(args.heavy, args.jobs)
    OUT.mkdir(parents=True, exist_ok=True)
    import dagster as dg

    user = pg_user()
    with contextlib.ExitStack() as stack:
        kept = Path(args.keep) if args.keep else None
        saved = kept / "scale.json" if kept else None
        if saved is not None and saved.exists():  # --keep: the data of an earlier run
            app_db, dagster_db = json.loads(saved.read_text())
            tmp = str(kept)
        else:
            tmp = str(kept) if kept else stack.enter_context(
                tempfile.TemporaryDirectory(prefix="scale-"))  # fmt: skip
            app_db = stack.enter_context(scratch_database("scale_app", drop=kept is None))
            dagster_db = stack.enter_context(scratch_database("scale_dagster", drop=kept is None))
        app_url = f"postgresql+psycopg://{user}@127.0.0.1:5432/{app_db}"
        dagster_url = f"postgresql://{user}@127.0.0.1:5432/{dagster_db}"
        home = Path(tmp) / "home"
        env = {"FRAMEFORGE_HOME": str(home), "DAGSTER_PG_URL": dagster_url,
               "DATABASE_URL": app_url, "JWT_SECRET": uuid.uuid4().hex * 2}  # fmt: skip
        os.environ.update(env)
        os.environ.pop("DAGSTER_HOME", None)
        for name in (
            "RABBITMQ_URL",
            "REDIS_URL",
            "FRAMEFORGE_S3_RESULTS_BUCKET",
            "FRAMEFORGE_S3_UPLOADS_BUCKET",
            "S3_RESULTS_BUCKET",
            "S3_UPLOADS_BUCKET",
        ):
            os.environ.pop(name, None)
        from frameforge_core.settings import ensure_dagster_home

        ensure_dagster_home()
        env["DAGSTER_HOME"] = os.environ["DAGSTER_HOME"]
        store_root = home / "store"
        with dg.DagsterInstance.get() as instance:
            if saved is not None and saved.exists():
                data = reload(app_url)
                print(f"data          reused from {kept}: {len(data['jobs'])} jobs")
            else:
                data = populate(args, app_url, instance)
                if saved is not None:
                    saved.write_text(json.dumps([app_db, dagster_db]))
            data["instance"] = instance
            api_figures(args, data, app_url, instance, store_root)
            sensor_figures(app_url, instance, store_root)
            explain(app_url.replace("+psycopg", ""), dagster_url, data)
            data["engine"].dispose()
        if not args.skip_graphql:
            graphql_figures({**os.environ, **env}, args.graphql_repeat)
    if kept:
        print(f"\nkept          databases {app_db}, {dagster_db} and {kept}: drop them after")
        return
    print("\ncleaned up    databases, vhost, temp dir")


if __name__ == "__main__":
    main()
