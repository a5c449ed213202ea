"""The embedded stack as real processes (API, Dagster webserver and daemon), over HTTP."""

import io
import time

import httpx2
import pytest

from frameforge.demo import running_stack
from frameforge_pipeline.engine.archive import zip_problems

pytestmark = pytest.mark.slow


def get_job(client: httpx2.Client, job_id: str) -> dict:
    """The job, as a polite client polls it: past the rate limit it waits as told."""
    while (answer := client.get(f"/api/v1/videos/jobs/{job_id}")).status_code == 429:
        time.sleep(int(answer.headers["Retry-After"]))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def wait_for(client: httpx2.Client, job_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get_job(client, job_id)
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


def ask(client: httpx2.Client, data: bytes, **options: object) -> httpx2.Response:
    """Upload ``data`` and ask for its job: the answer to POST /videos/jobs."""
    slot = client.post("/api/v1/videos/upload-url", json={"filename": "clip.mp4"}).json()
    assert httpx2.put(slot["uploadUrl"], content=data, headers=slot["headers"]).status_code == 201
    return client.post("/api/v1/videos/jobs", json={"videoId": slot["videoId"], "options": options})


def submit(client: httpx2.Client, data: bytes, **options: object) -> str:
    created = ask(client, data, **options)
    assert created.status_code == 202
    return str(created.json()["jobId"])


def test_upload_to_zip_through_the_running_stack(
    tmp_path, monkeypatch, make_clip, undecodable_video
):
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with (
        running_stack(tmp_path / "stack.log") as stack,
        httpx2.Client(base_url=stack.api) as client,
    ):
        assets = httpx2.post(
            f"{stack.dagster}/graphql", json={"query": "{ assetNodes { assetKey { path } } }"}
        ).json()["data"]["assetNodes"]
        assert sorted(node["assetKey"]["path"][0] for node in assets) == [
            "frame_index", "frame_index_daily", "frames", "frames_zip", "manifest",
            "source_video", "storyboard",
        ]  # fmt: skip

        account = {"email": "e2e@example.com", "password": "end to end 2"}
        assert client.post("/api/v1/auth/register", json=account).status_code == 201
        token = client.post("/api/v1/auth/login", json=account).json()["accessToken"]
        client.headers["Authorization"] = f"Bearer {token}"

        good = submit(client, make_clip("cfr.mp4", seconds=5).path.read_bytes())
        refused = ask(client, b"not a video at all " * 50)  # at once, no run
        assert (refused.status_code, refused.json()["detail"]) == (
            422,
            "video rejected: not a video file: no known media container was found",
        )
        bad = submit(client, undecodable_video)  # its header is fine: its run fails

        done = wait_for(client, good)
        assert done["status"] == "completed", done
        assert done["frameCount"] == 5
        archive = httpx2.get(done["downloadUrl"])
        assert archive.status_code == 200
        assert zip_problems(io.BytesIO(archive.content)) == []

        failed = wait_for(client, bad)
        assert failed["status"] == "failed"
        assert failed["error"] == (
            "video rejected: the video stream cannot be decoded (Invalid data found when "
            "processing input)"
        )

        # every frame of 60 s as PNG: long enough to be caught running, and cancelled
        long_clip = make_clip("long-640.mp4", seconds=60, size=(640, 480), gop=250)
        slow = submit(client, long_clip.path.read_bytes(), fps=30, format="png")
        deadline = time.monotonic() + 60
        while (job := get_job(client, slow))["status"] != "running":
            assert time.monotonic() < deadline, f"the job never started: {job}"
            time.sleep(0.5)
        assert client.post(f"/api/v1/videos/jobs/{slow}/cancel").status_code == 200
        assert wait_for(client, slow, timeout=60)["status"] == "cancelled"

    # The console: where things are, then one line per change of a job's state; the
    # processes' own logs (sensor ticks, run events, requests) are in files under the data dir
    console = (tmp_path / "stack.log").read_text().splitlines()
    header = ["app database migrated", "data dir ", "logs ", "page ", "API docs ", "Dagster UI "]
    assert [line.split("  ")[0].strip() for line in console[:6]] == [h.strip() for h in header]
    assert console[6].startswith("ready         in ")
    assert console[-1] == "stopping"
    jobs = console[7:-1]
    for job_id, last in [(good, "completed: 5 frames"), (bad, "failed: video rejected"),
                         (slow, "cancelled")]:  # fmt: skip
        lines = [line for line in jobs if f"job {job_id[:8]}  clip.mp4  " in line]
        # queued, submitted, running, its end (a look may see two at once: running is then
        # left out)
        assert 1 <= len(lines) <= 4, jobs
        assert last in lines[-1]
    assert len(jobs) <= 12, jobs
    logs = tmp_path / "home" / "logs"
    assert "Sensor" in (logs / "daemon.log").read_text()  # ticks and runs: in the daemon's log
    assert f"/api/v1/videos/jobs/{good}" in (logs / "api.log").read_text()
