"""Latency of the stack: POST /videos/jobs -> completed, and how much is overhead.

    python bench/job_latency.py [--jobs 5] [--seconds 10] [--size 1280x720]

Starts `frameforge up` on free ports in a temporary data dir, uploads one generated clip
per job (H.264, 1 s GOP), and for each job measures the wall time from the POST to the
first poll that sees `completed` (polling every 0.5 s, within the rate limit: the figures
are up to 0.5 s late), the time inside the Dagster run (its start to end), and the
difference: the overhead of the relay, the sensor tick, the run queue and the run launch.
Prints each job and the medians. The environment chooses the configuration: unset, the
embedded default; with DATABASE_URL, DAGSTER_PG_URL, RABBITMQ_URL... the production one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from frameforge.demo import POLL_SECONDS, Api, running_stack
from frameforge_pipeline.samples import write_clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FRAMEFORGE_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("DAGSTER_HOME", None)
        clip = Path(tmp) / "clip.mp4"
        write_clip(clip, seconds=args.seconds, size=(width, height))
        with running_stack(Path(tmp) / "stack.log") as stack:
            rows = [measure(signed_up(Api(stack.api), n), clip) for n in range(args.jobs)]
    print(f"{args.jobs} jobs, {args.seconds:g} s {args.size} H.264 each")
    print(f"{'total s':>8} {'run s':>8} {'overhead s':>11}")
    for total, run in rows:
        print(f"{total:8.2f} {run:8.2f} {total - run:11.2f}")
    total, run = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
    overhead = statistics.median(r[0] - r[1] for r in rows)
    print(f"median {total:8.2f} {run:8.2f} {overhead:11.2f}   (target: overhead <= 5 s)")


def signed_up(api: Api, n: int) -> Api:
    """A user per job, so that polling never meets the per-user rate limit (100/min)."""
    account = {"email": f"bench-{uuid.uuid4().hex[:8]}-{n}@example.com", "password": "bench 1 x"}
    api.call("POST", "/api/v1/auth/register", account)
    api.token = api.call("POST", "/api/v1/auth/login", account)["accessToken"]
    return api


def measure(api: Api, clip: Path) -> tuple[float, float]:
    data = clip.read_bytes()
    slot = api.call("POST", "/api/v1/videos/upload-url", {"filename": clip.name})
    api.call("PUT", slot["uploadUrl"], raw=data)
    began = time.perf_counter()
    job_id = api.call("POST", "/api/v1/videos/jobs", {"videoId": slot["videoId"]})["jobId"]
    while (job := api.call("GET", f"/api/v1/videos/jobs/{job_id}"))["status"] not in (
        "completed",
        "failed",
    ):
        time.sleep(POLL_SECONDS)
    total = time.perf_counter() - began
    if job["status"] != "completed":
        raise SystemExit(f"job {job_id} failed: {job['error']}")
    run = (
        dt.datetime.fromisoformat(job["finishedAt"]) - dt.datetime.fromisoformat(job["startedAt"])
    ).total_seconds()
    return total, run


if __name__ == "__main__":
    main()
