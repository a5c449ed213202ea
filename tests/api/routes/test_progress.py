"""A job's progress follows its frames as they are extracted: frames done of frames
expected, reported by the run while ``frames`` runs, never going back."""

from __future__ import annotations

import threading
import time

import dagster as dg
from fastapi.testclient import TestClient

from frameforge_api.core.rate_limit import MemoryRateLimiter
from frameforge_api.main import create_app
from frameforge_api.services import jobs
from frameforge_core.lifecycle import JobStatus
from frameforge_pipeline.gateway import job_runs
from tests.api.conftest import sign_up_on
from tests.api.routes.test_jobs import create_job, run_queue


def test_progress_counts_the_frames_as_they_come_and_never_goes_back(
    settings, storage, database_url, make_clip, instance, defs, database, monkeypatch
):
    monkeypatch.setattr(job_runs, "PROGRESS_INTERVAL_SECONDS", 0.02)  # many reports, quickly
    monkeypatch.setattr(jobs, "LIVE_SECONDS", 0.001)  # every poll reads the run
    unlimited = MemoryRateLimiter(limit=1_000_000)  # polled far more often than a client may
    app = create_app(settings, instance, storage, database_url, rate_limiter=unlimited)
    client = TestClient(app)
    alice = sign_up_on(client, "alice@example.com")
    video = make_clip("progress.mp4", seconds=20).path.read_bytes()
    slot = client.post("/api/v1/videos/upload-url", json={"filename": "p.mp4"}, headers=alice)
    client.put(slot.json()["uploadUrl"], content=video)
    options = {"fps": 10, "format": "png"}
    job_id = create_job(client, alice, slot.json()["videoId"], options=options).json()["jobId"]
    running = threading.Thread(target=run_queue, args=(instance, defs, database))
    running.start()
    seen: list[tuple[float, int | None, int | None]] = []
    while running.is_alive():
        job = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
        seen.append((job["progress"], job["framesDone"], job["framesExpected"]))
        time.sleep(0.01)
    running.join()
    done = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert (done["status"], done["progress"]) == ("completed", 1)
    assert (done["framesDone"], done["framesExpected"], done["frameCount"]) == (200, 200, 200)

    progress = [p for p, _, _ in seen]
    assert progress == sorted(progress)  # monotonic
    counts = [n for _, n, expected in seen if n is not None and expected == 200]
    assert counts == sorted(counts)
    midway = [n for n in counts if 0 < n < 200]
    assert len(set(midway)) >= 3, seen  # seen counting, not only before and after
    shares = {p for p, n, _ in seen if n in midway}
    assert len(shares) >= 3  # and the progress moved with the count


def test_frames_expected_is_unknown_in_scene_mode(instance):
    run = dg.DagsterRun(job_name="extract_video", tags={job_runs.PROGRESS_TAG: "4/?"})
    assert job_runs.frames_progress(run) == (4, None)


def test_a_run_reports_from_its_own_thread_and_always_the_last_count(instance):
    run = instance.create_run_for_job(dg.GraphDefinition(name="g").to_job())
    written = []
    real = instance.add_run_tags
    instance.add_run_tags = lambda run_id, tags: (real(run_id, tags), written.append(tags))
    tag = job_runs.PROGRESS_TAG
    with job_runs.RunProgress(instance, run, interval=60) as progress:
        for done in range(10):
            progress.report(done, 9)  # no write: the thread writes every 60 s
        progress.report(9, 9)
    assert written == []  # shorter than the interval: nothing shown, nothing to update

    with job_runs.RunProgress(instance, run, interval=0.01) as progress:
        progress.report(3, 9)
        deadline = time.monotonic() + 30
        while {tag: "3/9"} not in written:  # written by the thread within its interval
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert job_runs.frames_progress(instance.get_run_by_id(run.run_id)) == (3, 9)
        progress.interval = 60
        progress.report(9, 9)
    assert written[-1] == {tag: "9/9"}  # the last count, once the block ends
    assert job_runs.frames_progress(instance.get_run_by_id(run.run_id)) == (9, 9)


def test_a_count_copied_from_the_run_retried_is_reset_at_once(instance):
    parent = {job_runs.PROGRESS_TAG: "120/300"}  # Dagster copies a retried run's tags
    run = instance.create_run_for_job(dg.GraphDefinition(name="g").to_job(), tags=parent)
    with job_runs.RunProgress(instance, run, interval=60):
        assert job_runs.frames_progress(instance.get_run_by_id(run.run_id)) == (0, None)


def test_a_job_is_running_once_its_run_process_started_and_has_its_start_time():
    """Dagster stamps a run's start time when its process starts (STARTED); while the
    launcher starts it (STARTING) the job still waits: never running with no startedAt."""
    run = dg.DagsterRun(job_name="extract_video", status=dg.DagsterRunStatus.STARTING)
    assert job_runs.run_status(run) == JobStatus.QUEUED
    assert job_runs.run_status(run.with_status(dg.DagsterRunStatus.STARTED)) == JobStatus.RUNNING
