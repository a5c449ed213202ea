"""Per-user quotas, refused with a 4xx that names the limit before any run starts."""

import shutil

import pytest
from fastapi.testclient import TestClient

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_api.services import video_header
from tests.api.conftest import problem, sign_up_on
from tests.api.routes.test_jobs import create_job


@pytest.fixture
def limited(instance, storage, database_url):
    """An API with small quotas, and a user of it."""

    def make(**quota: object) -> tuple[TestClient, dict[str, str]]:
        settings = Settings(JWT_SECRET="q" * 40, **quota)
        client = TestClient(create_app(settings, instance, storage, database_url))
        return client, sign_up_on(client, "quota@example.com")

    return make


def _upload(client: TestClient, user: dict[str, str], data: bytes) -> str:
    slot = client.post(
        "/api/v1/videos/upload-url",
        json={"filename": "clip.mp4", "contentType": "video/mp4", "sizeBytes": len(data)},
        headers=user,
    )
    assert slot.status_code == 200, slot.json()
    assert client.put(slot.json()["uploadUrl"], content=data).status_code == 201
    return str(slot.json()["videoId"])


def test_unfinished_jobs_per_user(limited, undecodable_video):
    client, user = limited(quota_concurrent_jobs=2)
    video = undecodable_video
    first, _ = (create_job(client, user, _upload(client, user, video)).json() for _ in range(2))
    answer = create_job(client, user, _upload(client, user, video))
    assert problem(answer) == (
        429,
        "you have 2 jobs queued or running, the most allowed at once; create this one when "
        "one of them has ended",
    )
    client.post(f"/api/v1/videos/jobs/{first['jobId']}/cancel", headers=user)
    assert create_job(client, user, _upload(client, user, video)).status_code == 202


def test_video_duration(limited, make_clip):
    client, user = limited(quota_video_seconds=3)
    video = _upload(client, user, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    assert problem(create_job(client, user, video)) == (
        422,
        "the video is 0:00:05 long; videos may be at most 0:00:03",
    )


def test_frames_per_job_known_before_any_run(limited, make_clip):
    client, user = limited(quota_frames_per_job=8)
    video = _upload(client, user, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    assert problem(create_job(client, user, video, options={"fps": 2})) == (
        422,
        "these options would extract about 10 frames (2 per second of video); a job may "
        "extract at most 8: lower fps, or set start and end",
    )
    assert create_job(client, user, video, options={"fps": 1}).status_code == 202


def test_stored_bytes(limited):
    client, user = limited(quota_stored_bytes=1000)
    _upload(client, user, b"x" * 600)
    answer = client.post(
        "/api/v1/videos/upload-url",
        json={"filename": "b.mp4", "contentType": "video/mp4", "sizeBytes": 600},
        headers=user,
    )
    assert problem(answer) == (
        403,
        "storage quota reached: your videos take 600 bytes of 1000 bytes",
    )


def test_a_file_whose_header_declares_no_duration_is_left_to_the_pipeline(limited, make_clip):
    client, user = limited(quota_video_seconds=1)
    raw = make_clip("raw.h264", seconds=2).path.read_bytes()  # an H.264 stream: no container
    assert create_job(client, user, _upload(client, user, raw)).status_code == 202


def test_the_duration_of_an_s3_upload_is_read_from_its_header_over_http(s3_store, make_clip):
    key = "sources/v-quota/clip.mp4"
    with s3_store.open_write(key) as target, make_clip("cfr.mp4", seconds=5).path.open("rb") as f:
        shutil.copyfileobj(f, target)
    assert video_header.declared_duration(s3_store, key) == 5
