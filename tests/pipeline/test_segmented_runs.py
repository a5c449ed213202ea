"""A long video in the embedded default: its segments run as steps of their own, in processes
side by side (the multiprocess executor, forkserver start), and the ZIP is the one-piece
run's; a failed segment is re-executed alone; a cancel stops every segment's process.

Each run is a process of its own (tests/pipeline/segmented_run.py), with the data dir and
Dagster instance of the test, as the embedded default's run worker is."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from frameforge_core import layout
from frameforge_core.database import create_db_engine, migrate
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.resources import AppDatabase, LocalFrameStore
from frameforge_pipeline.sensors import job_outcome
from tests.pipeline.conftest import upload

ROOT = Path(__file__).resolve().parents[2]
SEGMENT = "frames.extract_segment"
# Work that tells a run apart from another, not its result (sums over the segments).
WORK = ("seconds", "decoded_frames", "seeks")


class Embedded:
    """A data dir and a Dagster instance, and runs of extract_video in them."""

    def __init__(self, root: Path):
        self.home, self.dagster_home = root / "home", root / "dagster"
        self.dagster_home.mkdir(parents=True)
        migrate(create_db_engine(f"sqlite:///{self.home / 'app.db'}"))
        self.store = LocalFrameStore(root=str(self.home / "store"))
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("S3_", "DATABASE_URL", "RABBITMQ_", "FRAMEFORGE_"))
        }
        self.env |= {
            "FRAMEFORGE_HOME": str(self.home),
            "DAGSTER_HOME": str(self.dagster_home),
            "PYTHONPATH": str(ROOT),
        }

    def start(self, partition: str, mode: str, *extra: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.pipeline.segmented_run", partition, mode, *extra],
            cwd=ROOT,
            env=self.env | env,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, partition: str, mode: str, *extra: str, **env: str) -> dict[str, Any]:
        process = self.start(partition, mode, *extra, **env)
        out, _ = process.communicate(timeout=600)
        assert process.returncode == 0, out
        ran: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return ran

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.dagster_home))

    def end(self, instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
        """The succeeded ``run``'s end, as the daemon hands it to the job_completed sensor."""
        [ended] = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)
        assert ended.dagster_event is not None
        database = AppDatabase(url=f"sqlite:///{self.home / 'app.db'}")
        context = dg.build_run_status_sensor_context(
            sensor_name="job_completed",
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=ended.dagster_event,
            resources={"database": database},
        )
        job_outcome.job_completed(context)

    def zip_contents(self, partition: str) -> tuple[dict[str, bytes], dict[str, Any]]:
        """The ZIP's frames (name: bytes) and its manifest, less the work counters."""
        with self.store.local_path(layout.zip_key(partition)) as path, zipfile.ZipFile(path) as z:
            entries = {name: z.read(name) for name in z.namelist()}
        manifest = json.loads(entries.pop("manifest.json"))
        for counter in WORK:
            manifest["extraction"].pop(counter)
        return entries, manifest


def steps_started(instance: dg.DagsterInstance, run_id: str) -> dict[str, int]:
    """The step keys a run started, with the pid of the process each ran in."""
    return {
        entry.dagster_event.step_key: entry.dagster_event.pid
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
        if entry.dagster_event is not None and entry.dagster_event.step_key is not None
    }


@pytest.fixture
def long_clip(make_clip: Callable[..., Any]) -> Path:
    """Three minutes, a keyframe every 2 s: three segments of 60 s."""
    clip = make_clip("three-minutes.mp4", seconds=180, fps=Fraction(10), size=(160, 96), gop=20)
    path: Path = clip.path
    return path


@pytest.fixture
def embedded(tmp_path: Path, long_clip: Path) -> Embedded:
    world = Embedded(tmp_path)
    upload(world.store, "long", long_clip)
    return world


def test_a_long_clip_runs_its_segments_in_parallel_processes(embedded: Embedded) -> None:
    whole = embedded.run("long", "in_process", FRAMEFORGE_SEGMENT_SECONDS="100000")
    assert whole["success"]
    one_piece = embedded.zip_contents("long")

    split = embedded.run("long", "multiprocess", FRAMEFORGE_SEGMENT_SECONDS="60")
    assert split["success"]
    with embedded.instance() as instance:
        started = steps_started(instance, split["run_id"])
        run = instance.get_run_by_id(split["run_id"])
        assert run is not None
        execution = run.run_config["execution"]["config"]["multiprocess"]
        in_one = steps_started(instance, whole["run_id"])
        keys = {job_runs.segment_progress_key(split["run_id"], i) for i in range(3)}
        counts = instance.run_storage.get_cursor_values(keys)
        embedded.end(instance, run)
        left = instance.run_storage.get_cursor_values(keys)
    segments = {key: pid for key, pid in started.items() if key.startswith(SEGMENT)}
    assert sorted(segments) == [f"{SEGMENT}[0000{i}]" for i in range(3)]
    # each step in a process of its own, none in the run's; up to the machine's cores at once
    assert len(set(started.values())) == len(started)
    assert execution["max_concurrent"] == os.cpu_count()
    assert execution["start_method"]["forkserver"]
    assert [key for key in in_one if key.startswith(SEGMENT)] == [f"{SEGMENT}[00000]"]
    assert len(set(in_one.values())) == 1  # the one-piece run: one process

    frames, manifest = embedded.zip_contents("long")
    assert len(frames) == 180
    assert (frames, manifest) == one_piece  # byte for byte, frames and manifest
    assert embedded.store.list_keys(layout.segments_prefix("long")) == []
    assert run.tags[job_runs.PROGRESS_TAG] == "180/180"
    # each segment's own count (keyframe-aligned: about 60 each), summed in the run's tag
    done = [tuple(map(int, count.split("/"))) for count in counts.values()]
    assert len(done) == 3
    assert all(made == expected for made, expected in done)
    assert sum(made for made, _ in done) == 180
    assert left == {}  # the run's end deleted every segment's row


def test_a_failed_segment_is_re_executed_alone(embedded: Embedded, tmp_path: Path) -> None:
    marker = tmp_path / "fail-once"
    marker.touch()
    faults = {"FRAMEFORGE_TEST_FAIL_SEGMENT": "1", "FRAMEFORGE_TEST_FAIL_MARKER": str(marker)}
    first = embedded.run("long", "multiprocess", FRAMEFORGE_SEGMENT_SECONDS="60", **faults)
    assert not first["success"]
    assert not marker.exists()

    again = embedded.run(
        "long", "multiprocess", "--from-failure", first["run_id"], FRAMEFORGE_SEGMENT_SECONDS="60"
    )
    assert again["success"]
    with embedded.instance() as instance:
        failed = [
            entry.dagster_event.step_key
            for entry in instance.all_logs(
                first["run_id"], of_type=dg.DagsterEventType.STEP_FAILURE
            )
            if entry.dagster_event is not None
        ]
        retried = steps_started(instance, again["run_id"])
    assert failed == [f"{SEGMENT}[00001]"]
    assert [key for key in retried if key.startswith(SEGMENT)] == [f"{SEGMENT}[00001]"]
    assert "frames.plan_frames" not in retried
    assert "frames.join_frames" in retried

    frames, _ = embedded.zip_contents("long")
    assert len(frames) == 180


def test_a_cancel_stops_every_segment_process(
    embedded: Embedded, make_clip: Callable[..., Any]
) -> None:
    heavy = make_clip("three-minutes-vga.mp4", seconds=180, fps=Fraction(20), size=(640, 360))
    upload(embedded.store, "heavy", heavy.path)
    # every frame as a PNG: each segment works for a while
    process = embedded.start(
        "heavy", "multiprocess", "--fps", "20", "--format", "png", FRAMEFORGE_SEGMENT_SECONDS="60"
    )
    with embedded.instance() as instance:
        run_id, segments = _segments_under_way(instance, "heavy")
        process.send_signal(signal.SIGINT)  # what a cancel sends the run worker
        process.communicate(timeout=300)
        run = instance.get_run_by_id(run_id)
        assert run is not None
        ended = {
            entry.dagster_event.step_key
            for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
            if entry.dagster_event is not None
        }
    assert run.status in (dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.FAILURE)
    assert not set(segments) & ended  # no segment under way finished
    assert "frames.join_frames" not in ended
    for pid in segments.values():
        assert not _alive(pid), pid
    assert embedded.store.list_keys(layout.frames_prefix("heavy")) == []


def _segments_under_way(instance: dg.DagsterInstance, partition: str) -> tuple[str, dict[str, int]]:
    """The run of ``partition`` once two segments have written frames, and their pids."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": partition}))
        if runs:
            run = runs[0]
            started = {
                key: pid
                for key, pid in steps_started(instance, run.run_id).items()
                if key.startswith(SEGMENT)
            }
            keys = {job_runs.segment_progress_key(run.run_id, i) for i in range(3)}
            counts = instance.run_storage.get_cursor_values(keys)
            working = [count for count in counts.values() if not count.startswith("0/")]
            if len(started) >= 2 and len(working) >= 2:
                return run.run_id, started
        time.sleep(0.5)
    raise AssertionError("two segments never got under way")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()
