"""Per-user quotas, refused with a 4xx that names the limit before any run starts."""

import shutil

import pytest
from fastapi.testclient import TestClient

from frameforge_api.core.config import Settings
from frameforge_api.core.sizes import size_text
from frameforge_api.main import create_app
from frameforge_api.services import video_header
from frameforge_core.models import VideoJob
from frameforge_core.settings import JobQuotaSettings, PictureLimitSettings
from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.gateway.job_runs import REJECTED_TAG
from frameforge_pipeline.resources import AppDatabase, ExtractionLimits
from tests.api.conftest import problem, sign_up_on
from tests.api.routes.test_jobs import create_job, run_queue
from tests.engine.test_job_limits import ALL_INTRA, TWO_MINUTES


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
    answer = _slot(client, user, 600)
    assert problem(answer) == (
        403,
        f"{USED} 600 bytes of 1000 bytes, and this upload needs 600 bytes; delete videos you "
        "no longer need",
    )


USED = "storage quota reached: your videos, their frames and your pending uploads take"


def _slot(client: TestClient, user: dict[str, str], size: int | None = None):
    body = {"filename": "clip.mp4", "contentType": "video/mp4"}
    return client.post(
        "/api/v1/videos/upload-url",
        json=body if size is None else {**body, "sizeBytes": size},
        headers=user,
    )


def test_an_upload_url_without_its_size_reserves_the_largest_upload(limited):
    client, user = limited(quota_stored_bytes=1000, max_upload_bytes=600)
    unsized = _slot(client, user)
    assert unsized.status_code == 200
    assert problem(_slot(client, user)) == (
        403,
        f"{USED} 600 bytes of 1000 bytes, and this upload may take up to 600 bytes (send "
        "sizeBytes to reserve only its size); delete videos you no longer need",
    )
    assert _slot(client, user, 400).status_code == 200  # 600 + 400: the whole quota
    assert _slot(client, user, 1).status_code == 403
    # uploaded, the unsized slot takes its size: 100 + 400 bytes
    assert client.put(unsized.json()["uploadUrl"], content=b"x" * 100).status_code == 201
    assert _slot(client, user, 500).status_code == 200
    assert _slot(client, user, 1).status_code == 403


def test_the_results_of_every_rendition_count(limited, make_clip, instance, storage, database_url):
    """A video and its PNG frames: once made, the frames count, and neither another
    rendition nor another upload fits."""
    data = make_clip("cfr.mp4", seconds=5).path.read_bytes()
    client, user = limited(quota_stored_bytes=len(data) + 1000)
    video = _upload(client, user, data)
    first = create_job(client, user, video, options={"format": "png"})
    assert first.status_code == 202
    database = AppDatabase(url=database_url)
    run_queue(instance, build_definitions({"storage": storage, "database": database}), database)
    with database.session() as session:
        [job] = session.query(VideoJob).all()
        assert job.status == "completed"
        results = [*storage.list_keys(f"frames/{job.partition_key}/")]
        results += storage.list_keys(f"results/{job.partition_key}/")
        assert job.result_bytes == sum(storage.size(key) for key in results) > 1000
    used = f"{size_text(len(data) + job.result_bytes)} of {size_text(len(data) + 1000)}"
    assert problem(create_job(client, user, video, options={"format": "png", "fps": 2})) == (
        403,
        f"{USED} {used}, and this job's frames need room too; delete videos you no longer need",
    )
    assert problem(_slot(client, user, 1))[0] == 403


def test_a_file_whose_header_declares_no_duration_is_left_to_the_pipeline(limited, make_clip):
    client, user = limited(quota_video_seconds=1)
    raw = make_clip("raw.h264", seconds=2).path.read_bytes()  # an H.264 stream: no container
    assert create_job(client, user, _upload(client, user, raw)).status_code == 202


def test_the_duration_of_an_s3_upload_is_read_from_its_header_over_http(s3_store, make_clip):
    key = "sources/v-quota/clip.mp4"
    with s3_store.open_write(key) as target, make_clip("cfr.mp4", seconds=5).path.open("rb") as f:
        shutil.copyfileobj(f, target)
    assert video_header.declared_duration(s3_store, key) == 5


@pytest.mark.parametrize(
    ("name", "clip", "options", "reason", "kind"),
    [
        (
            "two-minutes.h264",  # a raw H.264 stream: its header declares no duration
            TWO_MINUTES,
            {},
            "the video runs past 0:01:00, the longest a video may be",
            "VideoTooLongError",
        ),
        (
            "all-intra.mp4",
            ALL_INTRA,
            {"mode": "keyframes"},  # counted by no pre-check: every keyframe is a frame
            "the video has 240 keyframes in the window; a job may extract at most 100: use "
            "interval mode, or set start and end",
            "TooManyFramesError",
        ),
    ],
)
def test_what_the_api_cannot_count_the_pipeline_refuses(
    limited, make_clip, instance, storage, database_url, name, clip, options, reason, kind
):
    """Accepted at POST (nothing to count from the header), refused by the run at the
    limits the pipeline is given from the same settings: the job fails with the reason, its
    run tagged as a refusal of the user's input, not an outage."""
    quota = {"quota_video_seconds": 60, "quota_frames_per_job": 100}
    client, user = limited(**quota)
    video = _upload(client, user, make_clip(name, **clip).path.read_bytes())
    created = create_job(client, user, video, options=options)
    assert created.status_code == 202
    database = AppDatabase(url=database_url)
    limits = ExtractionLimits.from_settings(PictureLimitSettings(), JobQuotaSettings(**quota))
    defs = build_definitions({"storage": storage, "database": database, "limits": limits})
    run_queue(instance, defs, database)
    job = client.get(f"/api/v1/videos/jobs/{created.json()['jobId']}", headers=user).json()
    assert (job["status"], job["error"]) == ("failed", f"video rejected: {reason}")
    [run] = instance.get_runs()
    assert run.tags[REJECTED_TAG] == kind
