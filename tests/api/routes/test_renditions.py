"""Several renditions of one upload: a job per set of options, each its own Dagster
partition and ZIP; the same options again are the job that has them, not a new extraction."""

import datetime as dt
import io
import json
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_api.services import jobs
from frameforge_core import layout
from frameforge_core.models import Video, VideoJob
from frameforge_pipeline.partitions import VIDEOS
from tests.api.conftest import problem, sign_up_on
from tests.api.routes.test_jobs import create_job, run_queue


def _job(client: TestClient, user: dict[str, str], job_id: str) -> dict[str, object]:
    answer = client.get(f"/api/v1/videos/jobs/{job_id}", headers=user)
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


def _manifest_of(client: TestClient, url: str) -> dict[str, object]:
    archive = client.get(url)
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        document: dict[str, object] = json.loads(opened.read("manifest.json"))
    return document


@pytest.fixture
def clip(make_clip) -> bytes:
    """The 5 s clip every API test shares (make_clip caches by name)."""
    return bytes(make_clip("cfr.mp4", seconds=5).path.read_bytes())


def test_two_sets_of_options_on_one_upload_are_two_partitions_and_two_zips(
    client, alice, upload, clip, instance, defs, database
):
    video_id = upload(alice, clip)
    one = create_job(client, alice, video_id, options={"fps": 1})
    two = create_job(client, alice, video_id, options={"fps": 2, "format": "png"})
    assert (one.status_code, two.status_code) == (202, 202)
    requests = run_queue(instance, defs, database)
    keys = sorted(request.partition_key for request in requests)
    assert len(set(keys)) == 2
    assert sorted(instance.get_dynamic_partitions(VIDEOS)) == keys
    assert {layout.video_id_of(key) for key in keys} == {video_id}

    first, second = (_job(client, alice, r.json()["jobId"]) for r in (one, two))
    assert (first["status"], first["frameCount"]) == ("completed", 5)
    assert (second["status"], second["frameCount"]) == ("completed", 10)
    manifests = [_manifest_of(client, str(job["downloadUrl"])) for job in (first, second)]
    assert [m["video_id"] for m in manifests] == [video_id, video_id]
    assert [(m["options"]["fps"], m["options"]["format"]) for m in manifests] == [
        (1, "jpg"),
        (2, "png"),
    ]
    assert [len(m["frames"]) for m in manifests] == [5, 10]


def test_the_same_options_again_are_the_same_job_and_no_new_run(
    client, alice, upload, clip, instance, defs, database
):
    video_id = upload(alice, clip)
    first = create_job(client, alice, video_id, options={"fps": 2, "maxWidth": 320})
    job_id = first.json()["jobId"]
    queued = create_job(client, alice, video_id, options={"max_width": 320, "fps": 2.0})
    assert queued.status_code == 200  # the same options, written otherwise
    assert (queued.json()["jobId"], queued.json()["status"]) == (job_id, "queued")
    assert len(run_queue(instance, defs, database)) == 1

    again = create_job(client, alice, video_id, options={"fps": 2, "maxWidth": 320, "quality": 90})
    assert again.status_code == 200  # a default spelt out changes nothing
    assert again.json() == _job(client, alice, job_id) | {
        "downloadUrl": again.json()["downloadUrl"],
        "downloadExpiresAt": again.json()["downloadExpiresAt"],
    }
    assert again.json()["status"] == "completed"
    assert again.json()["downloadUrl"]
    assert run_queue(instance, defs, database) == []  # nothing extracted twice
    listed = client.get("/api/v1/videos/jobs", headers=alice).json()["items"]
    assert [job["jobId"] for job in listed] == [job_id]


def test_a_job_from_before_renditions_is_reused_for_its_options(
    client, alice, upload, clip, instance, defs, database
):
    """A job made before renditions is keyed by its video id; the same options find it."""
    video_id = upload(alice, clip)
    job_id = create_job(client, alice, video_id).json()["jobId"]
    with database.session() as session:
        session.execute(update(VideoJob).values(partition_key=video_id))
        session.commit()
    [request] = run_queue(instance, defs, database)
    assert request.partition_key == video_id
    assert create_job(client, alice, video_id, options={"fps": 1}).json()["jobId"] == job_id
    other = create_job(client, alice, video_id, options={"fps": 3})
    assert other.status_code == 202
    [request] = run_queue(instance, defs, database)
    assert request.partition_key.startswith(f"{video_id}.")
    assert _job(client, alice, job_id)["downloadUrl"]  # the old ZIP, where it was


def test_cancel_and_retry_are_per_rendition(client, alice, upload, clip, instance, defs, database):
    video_id = upload(alice, clip)
    one = create_job(client, alice, video_id, options={"fps": 1}).json()["jobId"]
    two = create_job(client, alice, video_id, options={"fps": 2}).json()["jobId"]
    assert client.post(f"/api/v1/videos/jobs/{one}/cancel", headers=alice).status_code == 200
    [request] = run_queue(instance, defs, database)
    assert request.tags["frameforge/job_id"] == two
    assert _job(client, alice, one)["status"] == "cancelled"
    assert _job(client, alice, two)["status"] == "completed"

    retried = client.post(f"/api/v1/videos/jobs/{one}/retry", headers=alice)
    assert retried.status_code == 202
    assert create_job(client, alice, video_id, options={"fps": 1}).json()["jobId"] == one
    [request] = run_queue(instance, defs, database)
    assert request.run_key == f"{one}:1"
    assert _job(client, alice, one)["frameCount"] == 5
    assert problem(client.post(f"/api/v1/videos/jobs/{two}/retry", headers=alice))[0] == 409


def test_a_cancelled_rendition_is_not_reused_and_then_cannot_be_retried(
    client, alice, upload, clip, instance, defs, database
):
    video_id = upload(alice, clip)
    first = create_job(client, alice, video_id).json()["jobId"]
    client.post(f"/api/v1/videos/jobs/{first}/cancel", headers=alice)
    second = create_job(client, alice, video_id)
    assert second.status_code == 202  # a new job of the same rendition
    assert second.json()["jobId"] != first
    retry = client.post(f"/api/v1/videos/jobs/{first}/retry", headers=alice)
    assert problem(retry) == (
        409,
        f"these options of this video already have job {second.json()['jobId']}",
    )


def test_the_same_rendition_with_another_callback_is_409(client, alice, upload, undecodable_video):
    video_id = upload(alice, undecodable_video)
    hook = {"callbackUrl": "https://hooks.example.com/a"}
    first = create_job(client, alice, video_id, **hook)
    assert first.json()["webhookSecret"].startswith("whsec_")
    assert create_job(client, alice, video_id, **hook).status_code == 200
    assert create_job(client, alice, video_id).status_code == 200  # no callback of its own
    other = create_job(client, alice, video_id, callbackUrl="https://hooks.example.com/b")
    assert problem(other) == (
        409,
        f"job {first.json()['jobId']} already extracts this video with these options and "
        "calls back another URL; follow that job, or ask for other options",
    )


def test_a_reused_job_counts_no_quota(instance, storage, database_url, undecodable_video):
    """Quotas count jobs: the job that is already there costs nothing more."""
    settings = Settings(JWT_SECRET="q" * 40, quota_concurrent_jobs=1)
    client = TestClient(create_app(settings, instance, storage, database_url))
    user = sign_up_on(client, "quota@example.com")
    slot = client.post(
        "/api/v1/videos/upload-url",
        json={"filename": "clip.mp4", "contentType": "video/mp4"},
        headers=user,
    ).json()
    assert client.put(slot["uploadUrl"], content=undecodable_video).status_code == 201
    first = create_job(client, user, slot["videoId"])
    assert create_job(client, user, slot["videoId"]).json()["jobId"] == first.json()["jobId"]
    assert problem(create_job(client, user, slot["videoId"], options={"fps": 2}))[0] == 429


def test_openapi_declares_the_reused_job(client):
    create = client.get("/openapi.json").json()["paths"]["/api/v1/videos/jobs"]["post"]
    assert set(create["responses"]) >= {"200", "202", "409"}
    assert create["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JobOut"
    }
    assert "not extracted twice" in create["description"]


def test_two_requests_racing_for_one_rendition_get_one_job(
    client, alice, upload, monkeypatch, undecodable_video
):
    """The second of two concurrent requests (it looked before the first committed) is
    refused by the unique index and answered with the first's job."""
    video_id = upload(alice, undecodable_video)
    first = create_job(client, alice, video_id).json()["jobId"]
    real = jobs._rendition_job
    looks: list[str] = []

    def too_early(*args: object) -> object:
        looks.append("look")
        return None if len(looks) == 1 else real(*args)

    monkeypatch.setattr(jobs, "_rendition_job", too_early)
    late = create_job(client, alice, video_id)
    assert (late.status_code, late.json()["jobId"], len(looks)) == (200, first, 2)


def test_a_rendition_whose_results_expired_is_not_reused(
    client, alice, upload, database, undecodable_video
):
    """Retention deleted the video's results: the same options say so (410), not 200."""
    video_id = upload(alice, undecodable_video)
    job_id = create_job(client, alice, video_id).json()["jobId"]
    now = dt.datetime.now(dt.UTC)
    with database.session() as session:
        session.execute(update(VideoJob).values(status="completed", results_expired_at=now))
        session.execute(update(Video).values(expired_at=now))
        session.commit()
    again = create_job(client, alice, video_id)
    assert problem(again)[0] == 410
    assert job_id not in again.text
