"""Uploads cannot be replaced once their job exists, announced sizes are signed into the
presigned PUT, and slots never confirmed are swept (S3 on moto over HTTP, and embedded).

moto checks no presigned signature (a PUT with a wrong signature, another content type or
another length is stored all the same): these tests prove what the URL asks S3 to enforce
(``X-Amz-SignedHeaders``) and what the API enforces itself; the refusal of a PUT of another
length (403 SignatureDoesNotMatch) is real S3's.
"""

import datetime as dt
import urllib.parse

import httpx2
import pytest
from sqlalchemy import select

from frameforge_core import layout
from frameforge_core.models import Video
from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.resources import AppDatabase
from frameforge_pipeline.sensors.upload_retention import sweep
from tests.api.routes.test_jobs import run_queue
from tests.integration import test_s3
from tests.sample_clips import write_audio_only

s3_api = test_s3.s3_api  # the fixture: an API on the S3 store and a signed-in user


def slot_for(client, headers, **body):
    answer = client.post(
        "/api/v1/videos/upload-url",
        json={"filename": "clip.mp4", "contentType": "video/mp4", **body},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def put(slot, data: bytes) -> int:
    return httpx2.put(slot["uploadUrl"], content=data, headers=slot["headers"]).status_code


def signed_headers(url: str) -> list[str]:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return query["X-Amz-SignedHeaders"][0].split(";")


def test_a_put_after_the_job_exists_does_not_change_what_is_processed(
    s3_api, s3_store, instance, database_url, make_clip
):
    client, headers = s3_api
    first = make_clip("cfr.mp4", seconds=5).path.read_bytes()
    other = make_clip("cfr-3s.mp4", seconds=3).path.read_bytes()
    slot = slot_for(client, headers)
    assert put(slot, first) == 200
    job = client.post("/api/v1/videos/jobs", json={"videoId": slot["videoId"]}, headers=headers)
    assert job.status_code == 202

    assert put(slot, other) == 200  # the URL still works for its 15 minutes...
    video_id = slot["videoId"]
    [source] = s3_store.list_keys(layout.source_prefix(video_id))
    with s3_store.open_read(source) as stream:
        assert stream.read() == first  # ...but what the job processes was set aside

    database = AppDatabase(url=database_url)
    run_queue(instance, build_definitions({"storage": s3_store, "database": database}), database)
    done = client.get(f"/api/v1/videos/jobs/{job.json()['jobId']}", headers=headers).json()
    assert (done["status"], done["frameCount"]) == ("completed", 5)  # the 5 s clip, not 3 s


def test_the_announced_size_is_signed_into_the_put(s3_api, make_clip):
    client, headers = s3_api
    data = make_clip("cfr.mp4", seconds=5).path.read_bytes()
    slot = slot_for(client, headers, sizeBytes=len(data))
    assert signed_headers(slot["uploadUrl"]) == ["content-length", "content-type", "host"]
    assert slot["method"] == "PUT"
    assert put(slot, data) == 200  # every HTTP client sends Content-Length: len(data)
    unannounced = slot_for(client, headers)
    assert signed_headers(unannounced["uploadUrl"]) == ["content-type", "host"]


def test_an_upload_larger_than_announced_is_refused_at_confirmation_and_dropped(s3_api, s3_store):
    client, headers = s3_api
    slot = slot_for(client, headers, sizeBytes=1000)
    assert put(slot, b"\0" * 25_000) == 200  # moto takes it; S3 answers 403 (signed length)
    answer = client.post("/api/v1/videos/jobs", json={"videoId": slot["videoId"]}, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["detail"] == "the upload is larger than the 1000 bytes allowed"
    assert s3_store.list_keys(layout.upload_prefix(slot["videoId"])) == []
    assert s3_store.list_keys(layout.source_prefix(slot["videoId"])) == []


def test_the_sweep_removes_unconfirmed_slots_and_keeps_confirmed_ones(
    s3_api, s3_store, database_url, make_clip
):
    client, headers = s3_api
    data = make_clip("cfr.mp4", seconds=5).path.read_bytes()
    abandoned, confirmed, fresh = (slot_for(client, headers) for _ in range(3))
    for slot in (abandoned, confirmed):
        assert put(slot, data) == 200
    job = client.post(
        "/api/v1/videos/jobs", json={"videoId": confirmed["videoId"]}, headers=headers
    )
    assert job.status_code == 202

    database = AppDatabase(url=database_url)
    with database.session() as session:  # the fresh one was asked for just now
        session.get(Video, fresh["videoId"]).created_at = dt.datetime.now(dt.UTC) + dt.timedelta(
            hours=1
        )
        session.commit()
    assert sweep(database, s3_store, created_before=dt.datetime.now(dt.UTC)) == 1

    with database.session() as session:
        left = set(session.scalars(select(Video.id)))
    assert left == {confirmed["videoId"], fresh["videoId"]}
    assert s3_store.list_keys(layout.upload_prefix(abandoned["videoId"])) == []
    assert len(s3_store.list_keys(layout.source_prefix(confirmed["videoId"]))) == 1
    answer = client.post(
        "/api/v1/videos/jobs", json={"videoId": abandoned["videoId"]}, headers=headers
    )
    assert answer.status_code == 422


@pytest.fixture
def embedded(client, alice, upload, storage, database):
    return client, alice, upload, storage, database


def test_embedded_uploads_move_to_sources_when_the_job_is_created(embedded, make_clip):
    client, alice, upload, storage, _ = embedded
    data = make_clip("cfr.mp4", seconds=5).path.read_bytes()
    video_id = upload(alice, data)
    [received] = storage.list_keys(layout.upload_prefix(video_id))
    job = client.post("/api/v1/videos/jobs", json={"videoId": video_id}, headers=alice)
    assert job.status_code == 202
    assert storage.list_keys(layout.upload_prefix(video_id)) == []
    assert storage.list_keys(layout.source_prefix(video_id)) == [layout.source_key(received)]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.mp4", b"", "video rejected: the file is empty (0 bytes)"),
        (  # behind a URL FFmpeg cannot tell text by its extension: no container it knows
            "notes.txt",
            b"Meeting notes\n" * 50,
            "video rejected: not a video file: no known media container was found",
        ),
        (
            "random.mp4",
            bytes(range(256)) * 40,
            "video rejected: not a video file: no known media container was found",
        ),
        ("song.m4a", None, "video rejected: no video stream: the file holds only audio (aac)"),
    ],
)
def test_a_file_that_is_not_a_video_is_refused_from_its_header_on_s3(
    s3_api, database_url, tmp_path, name, data, reason
):
    """The same refusal as on the local store (tests/api/routes/test_not_a_video.py), read
    over HTTP through a presigned GET: no job, no run."""
    client, headers = s3_api
    if data is None:
        write_audio_only(tmp_path / name)
        data = (tmp_path / name).read_bytes()
    slot = slot_for(client, headers, filename=name)  # no sizeBytes: S3 takes any length
    assert put(slot, data) == 200
    answer = client.post("/api/v1/videos/jobs", json={"videoId": slot["videoId"]}, headers=headers)
    assert (answer.status_code, answer.json()["detail"]) == (422, reason)
    assert client.get("/api/v1/videos/jobs", headers=headers).json()["items"] == []
