"""Deleted means deleted on versioned buckets (deploy/terraform/s3.tf turns versioning on):
``DELETE /auth/me``, deleting a video and retention leave no version and no delete marker
of what they remove, and an upload URL handed out before the deletion leaves nothing for
good (S3 on moto over HTTP, versioning enabled on both test buckets)."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest

from frameforge_core.models import utcnow
from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.resources import AppDatabase
from frameforge_pipeline.sensors import video_retention
from tests.api.routes.test_jobs import run_queue
from tests.integration import test_s3
from tests.integration.test_s3_uploads import put, slot_for

s3_api = test_s3.s3_api  # the fixture: an API on the S3 store and a signed-in user
PASSWORD = "bucket list 9"  # the s3_api user's


def s3(store):
    return boto3.client("s3", endpoint_url=store.endpoint_url, region_name="us-east-1")


@pytest.fixture
def s3_store(s3_store):
    """The S3 store on two fresh buckets, both versioned as Terraform makes them."""
    client = s3(s3_store)
    for bucket in (s3_store.uploads_bucket, s3_store.results_bucket):
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3_store


def versions(store, video_id: str) -> list[str]:
    """Every version and delete marker, in both buckets, of a key that names the video."""
    client, found = s3(store), []
    for bucket in (store.uploads_bucket, store.results_bucket):
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for kind in ("Versions", "DeleteMarkers"):
                found += [
                    f"{kind}: {item['Key']} {item['VersionId']}"
                    for item in page.get(kind, [])
                    if video_id in item["Key"] and "/dropped/" not in item["Key"]
                ]  # a drop marker of the frame index holds ids only, and goes with compaction
    return found


def completed_job(client, headers, store, instance, database_url, make_clip) -> str:
    """A video uploaded, confirmed and extracted on S3; returns its id."""
    slot = slot_for(client, headers)
    assert put(slot, make_clip("cfr-3s.mp4", seconds=3).path.read_bytes()) == 200
    job = client.post("/api/v1/videos/jobs", json={"videoId": slot["videoId"]}, headers=headers)
    assert job.status_code == 202, job.text
    database = AppDatabase(url=database_url)
    run_queue(instance, build_definitions({"storage": store, "database": database}), database)
    done = client.get(f"/api/v1/videos/jobs/{job.json()['jobId']}", headers=headers).json()
    assert done["status"] == "completed"
    return str(slot["videoId"])


def test_a_deleted_account_leaves_no_version_behind(
    s3_api, s3_store, instance, database_url, make_clip
):
    client, headers = s3_api
    video_id = completed_job(client, headers, s3_store, instance, database_url, make_clip)
    before = versions(s3_store, video_id)
    assert any(f"sources/{video_id}/" in v for v in before)
    assert any(f"frames/{video_id}" in v for v in before)
    # the move to sources/ took every version of the upload (a plain delete would only
    # have hidden it behind a delete marker, still readable by version id)
    assert not [v for v in before if f"uploads/{video_id}/" in v]

    gone = client.request("DELETE", "/api/v1/auth/me", json={"password": PASSWORD}, headers=headers)
    assert gone.status_code == 204
    assert versions(s3_store, video_id) == []


def test_retention_leaves_no_version_behind(s3_api, s3_store, instance, database_url, make_clip):
    client, headers = s3_api
    video_id = completed_job(client, headers, s3_store, instance, database_url, make_clip)
    database = AppDatabase(url=database_url)
    later = utcnow() + dt.timedelta(days=1)
    assert video_retention.expire(database, s3_store, instance, later) == 1
    left = versions(s3_store, video_id)
    assert left  # the frame index rows stay, the rest goes
    assert all(v.split()[1].startswith("frame_index/") for v in left)


def test_an_upload_url_of_a_deleted_account_leaves_nothing_for_good(
    s3_api, s3_store, instance, database_url
):
    """S3 takes a PUT on a presigned URL until it expires, whatever happened to its account
    (moto: 200, as S3): the purge sweeps the upload folder once more when no URL of the
    video can still be arriving, every version of it."""
    client, headers = s3_api
    slot = slot_for(client, headers)
    gone = client.request("DELETE", "/api/v1/auth/me", json={"password": PASSWORD}, headers=headers)
    assert gone.status_code == 204
    assert put(slot, b"late bytes") == 200
    assert put(slot, b"later bytes") == 200  # two versions
    video_id = slot["videoId"]
    assert len(versions(s3_store, video_id)) == 2

    database = AppDatabase(url=database_url)
    soon = utcnow() + dt.timedelta(minutes=5)
    video_retention.purge_deleted(database, s3_store, instance, now=soon)
    assert len(versions(s3_store, video_id)) == 2  # a URL may still be arriving: not yet
    after = utcnow() + video_retention.LATE_UPLOADS
    video_retention.purge_deleted(database, s3_store, instance, now=after)
    assert versions(s3_store, video_id) == []
    assert video_retention.sweep_late_uploads(database, s3_store, after) == 0  # swept once
