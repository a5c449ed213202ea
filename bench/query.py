"""`frameforge query` over 1,000,000 synthetic frames of 10,000 videos, before and after
compaction, measured in the same run.

    python bench/query.py [--videos 10000] [--frames 100] [--days 30] [--runs 3]

Writes one fresh Parquet file per video (what the frame_index asset leaves), extraction
times spread over ``--days`` days, into a scratch local store; times each query (the view's
listing included, as the command does it) on those files; compacts every day
(frame_index_daily's function) and times the same queries on the daily files. Prints
median wall times, the files each query reads and the ratio after / before.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time

import duckdb
import numpy as np
import pyarrow as pa

from frameforge_core import layout
from frameforge_pipeline import frame_index_store as index
from frameforge_pipeline.resources import LocalFrameStore

QUERIES = {
    "frames per video": "SELECT video_id, count(*), max(timestamp_ms) FROM frames GROUP BY 1",
    "darkest 10": "SELECT video_id, frame_index, brightness FROM frames "
    "ORDER BY brightness LIMIT 10",
    "one video": "SELECT count(*) FROM frames WHERE video_id = 'video-04242'",
    "pHash within 4 of one": "SELECT count(*) FROM frames "
    "WHERE bit_count(xor(phash, 12345678901234567890::UBIGINT)) <= 4",
}
START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def synthetic(video: int, frames: int, when: dt.datetime, rng: np.random.Generator) -> pa.Table:
    video_id = f"video-{video:05d}"
    same = [video_id] * frames
    return pa.table(
        {
            "video_id": same,
            "job_id": [f"job-{video:05d}"] * frames,
            "user_id": [f"user-{video % 97:02d}"] * frames,
            "file_name": [f"clip {video}.mp4"] * frames,
            "video_sha256": [f"{video:064x}"] * frames,
            "frame_index": np.arange(frames, dtype=np.int32),
            "timestamp_ms": np.arange(frames, dtype=np.float64) * 1000,
            "keyframe": np.ones(frames, dtype=bool),
            "width": np.full(frames, 1280, np.int32),
            "height": np.full(frames, 720, np.int32),
            "bytes": rng.integers(20_000, 200_000, frames),
            "image_key": [f"frames/{video_id}/frame_{i:06d}.jpg" for i in range(frames)],
            "phash": rng.integers(0, 2**64, frames, dtype=np.uint64),
            "brightness": rng.random(frames),
            "sharpness": rng.random(frames) * 2000,
            "extracted_at": pa.array([when] * frames, pa.timestamp("us", tz="UTC")),
            "engine_version": ["2"] * frames,
            "partition_key": same,
            "codec": ["h264"] * frames,
        },
        schema=index.SCHEMA,
    )


def timed_queries(store: LocalFrameStore, runs: int) -> dict[str, tuple[float, int]]:
    """Median seconds of each query (a new connection and view each time, as the command
    builds them) and the number of files it reads."""
    results: dict[str, list[float]] = {name: [] for name in QUERIES}
    files = 0
    for _ in range(runs):
        for name, sql in QUERIES.items():
            began = time.perf_counter()
            connection = duckdb.connect()
            state = index.register_frames(connection, store)
            connection.sql(sql).fetchall()
            results[name].append(time.perf_counter() - began)
            files = len(state.daily) + len(state.visible_fresh())
    return {name: (statistics.median(times), files) for name, times in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="bench-query-") as root:
        store = LocalFrameStore(root=root)
        began = time.perf_counter()
        step = dt.timedelta(days=args.days) / args.videos
        for video in range(args.videos):
            when = START + video * step
            key = layout.frame_index_key(f"video-{video:05d}", when)  # as add_extraction does
            index.write_rows(store, key, synthetic(video, args.frames, when, rng))
        rows = args.videos * args.frames
        print(
            f"{rows:,} rows in {args.videos:,} fresh files, written in "
            f"{time.perf_counter() - began:.1f} s; load average {os.getloadavg()[0]:.2f}"
        )
        before = timed_queries(store, args.runs)

        began = time.perf_counter()
        for offset in range(args.days + 1):
            index.compact(store, (START + dt.timedelta(days=offset)).date())
        compaction = time.perf_counter() - began
        after = timed_queries(store, args.runs)
        print(
            f"compaction of {args.days + 1} days: {compaction:.1f} s; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        print()
        print(f"{'query':24} {'before s':>9} {'files':>6} {'after s':>8} {'files':>6} {'ratio':>6}")
        for name in QUERIES:
            (b, bf), (a, af) = before[name], after[name]
            print(f"{name:24} {b:9.3f} {bf:6d} {a:8.3f} {af:6d} {a / b:6.3f}")


if __name__ == "__main__":
    main()
