"""The S3 store against an S3-compatible server over HTTP (moto in server mode)."""

import io

import httpx2
import pytest
from fastapi.testclient import TestClient

from frameforge_api.core.config import Settings
from frameforge_api.main import create_app
from frameforge_core import layout
from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.engine.archive import zip_problems
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.resources import AppDatabase
from tests.api.routes.test_jobs import run_queue
from tests.pipeline.conftest import upload


def test_presigned_put_and_get_work_with_a_plain_http_client(s3_store):
    key = layout.upload_prefix("v-presigned") + "clip.mp4"
    put_url = s3_store.presigned_url("PUT", key, 900, ContentType="video/mp4")
    answer = httpx2.put(put_url, content=b"video bytes", headers={"Content-Type": "video/mp4"})
    assert answer.status_code == 200
    assert s3_store.size(key) == len(b"video bytes")
    assert httpx2.get(s3_store.presigned_url("GET", key, 900)).content == b"video bytes"
    assert s3_store.uri(key) == f"s3://{s3_store.uploads_bucket}/{key}"


def test_the_whole_graph_on_s3(s3_store, database, instance, make_clip):
    defs = build_definitions({"storage": s3_store, "database": database})
    upload(s3_store, "v-s3", make_clip("cfr.mp4", seconds=5).path)
    instance.add_dynamic_partitions(VIDEOS, ["v-s3"])
    result = defs.resolve_job_def("extract_video").execute_in_process(
        partition_key="v-s3", instance=instance
    )
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    with s3_store.open_read(layout.zip_key("v-s3")) as stream:
        assert zip_problems(io.BytesIO(stream.read())) == []
    assert len(s3_store.list_keys(layout.frames_prefix("v-s3"))) == 5
    assert s3_store.list_keys("uploads/") == ["uploads/v-s3/cfr.mp4"]  # the uploads bucket


@pytest.fixture
def s3_api(s3_store, instance, database_url) -> tuple[TestClient, dict[str, str]]:
    """An API on the S3 store, and a signed-in user's headers."""
    client = TestClient(create_app(Settings(JWT_SECRET="3" * 40), instance, s3_store, database_url))
    account = {"email": "s3@example.com", "password": "bucket list 9"}
    client.post("/api/v1/auth/register", json=account)
    token = client.post("/api/v1/auth/login", json=account).json()["accessToken"]
    return client, {"Authorization": f"Bearer {token}"}


def test_api_on_s3_uploads_and_downloads_go_straight_to_the_bucket(
    s3_api, s3_store, instance, database_url, make_clip
):
    client, headers = s3_api
    slot = client.post(
        "/api/v1/videos/upload-url",
        json={"filename": "Été clip.mp4", "contentType": "video/mp4"},
        headers=headers,
    ).json()
    assert slot["uploadUrl"].startswith(s3_store.endpoint_url)  # presigned, not the API
    data = make_clip("cfr.mp4", seconds=5).path.read_bytes()
    assert httpx2.put(slot["uploadUrl"], content=data, headers=slot["headers"]).status_code == 200

    job_id = client.post(
        "/api/v1/videos/jobs", json={"videoId": slot["videoId"]}, headers=headers
    ).json()["jobId"]
    database = AppDatabase(url=database_url)
    defs = build_definitions({"storage": s3_store, "database": database})
    run_queue(instance, defs, database)
    done = client.get(f"/api/v1/videos/jobs/{job_id}", headers=headers).json()
    assert done["status"] == "completed"
    redirect = client.get(done["downloadUrl"], follow_redirects=False)
    assert redirect.status_code == 307
    archive = httpx2.get(redirect.headers["location"])
    assert archive.headers["content-disposition"] == (  # named by the file, as S3 answers
        'attachment; filename="Ete_clip-frames.zip"; '
        "filename*=UTF-8''%C3%89t%C3%A9%20clip-frames.zip"
    )
    assert zip_problems(io.BytesIO(archive.content)) == []


def test_a_job_on_a_video_never_put_is_409(s3_api):
    client, headers = s3_api
    slot = client.post("/api/v1/videos/upload-url", json={"filename": "a.mp4"}, headers=headers)
    video_id = slot.json()["videoId"]
    answer = client.post("/api/v1/videos/jobs", json={"videoId": video_id}, headers=headers)
    assert answer.status_code == 409
    assert answer.json()["detail"] == f"video {video_id} has not been uploaded yet"
