"""Deleting a video or an account, and results that retention expired (410 with a reason)."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from frameforge_core import layout
from frameforge_core.models import DeletedVideo, User, Video, VideoJob, utcnow
from frameforge_core.settings import OperationsSettings
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.sensors import video_retention
from tests.api.conftest import PASSWORD, problem
from tests.api.routes.test_jobs import create_job, run_queue


@pytest.fixture
def completed(client, alice, upload, make_clip, instance, defs, database):
    """A video of alice's with a completed job: (video id, job body)."""
    video_id = upload(alice, make_clip("cfr-3s.mp4", seconds=3).path.read_bytes())
    job_id = create_job(client, alice, video_id, options={"fps": 2}).json()["jobId"]
    run_queue(instance, defs, database)
    job = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert job["status"] == "completed"
    return video_id, job


def partition_of(database, job_id: str) -> str:
    with database.session() as session:
        return session.query(VideoJob).filter_by(id=job_id).one().partition_key


def left_in_store(storage, video_id: str, partition: str) -> list[str]:
    prefixes = [
        layout.upload_prefix(video_id),
        layout.source_prefix(video_id),
        layout.frames_prefix(partition),
        layout.key_folder(layout.zip_key(partition)),
    ]
    return [key for prefix in prefixes for key in storage.list_keys(prefix)]


def test_deleting_a_video_removes_it_everywhere(
    client, alice, completed, instance, storage, database
):
    video_id, job = completed
    partition = partition_of(database, job["jobId"])
    assert left_in_store(storage, video_id, partition)
    assert instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": partition}))

    assert client.delete(f"/api/v1/videos/{video_id}", headers=alice).status_code == 204

    assert problem(client.get(f"/api/v1/videos/jobs/{job['jobId']}", headers=alice))[0] == 404
    assert problem(client.get(job["downloadUrl"]))[0] == 404
    assert left_in_store(storage, video_id, partition) == []
    assert storage.list_keys(layout.DROPPED_INDEX_PREFIX)  # its frame index rows are dropped
    assert not instance.has_dynamic_partition(VIDEOS, partition)
    assert not instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": partition}))
    with database.session() as session:
        assert session.get(Video, video_id) is None
        [row] = session.query(DeletedVideo).all()
        assert (row.video_id, row.partition_keys) == (video_id, [partition])
        assert row.purged_at is not None
    assert problem(client.delete(f"/api/v1/videos/{video_id}", headers=alice))[0] == 404


def test_another_users_video_is_404_and_stays(
    client, alice, bob, upload, database, undecodable_video
):
    video_id = upload(alice, undecodable_video)
    assert problem(client.delete(f"/api/v1/videos/{video_id}", headers=bob)) == (
        404,
        "no such video",
    )
    assert problem(client.delete("/api/v1/videos/no-such-video", headers=alice))[0] == 404
    assert client.delete(f"/api/v1/videos/{video_id}").status_code == 401
    with database.session() as session:
        assert session.get(Video, video_id) is not None


def test_deleting_a_video_cancels_its_live_job(client, alice, upload, make_clip, database):
    video_id = upload(alice, make_clip("cfr-3s.mp4", seconds=3).path.read_bytes())
    job_id = create_job(client, alice, video_id).json()["jobId"]
    assert client.delete(f"/api/v1/videos/{video_id}", headers=alice).status_code == 204
    with database.session() as session:
        assert session.query(VideoJob).filter_by(id=job_id).one_or_none() is None
        assert session.query(DeletedVideo).one().purged_at is not None  # no run to wait for


def test_a_run_still_going_is_waited_for_then_purged_by_the_sensor(
    client, alice, completed, instance, storage, database
):
    video_id, job = completed
    partition = partition_of(database, job["jobId"])
    going = instance.create_run_for_job(
        dg.GraphDefinition(name="noop", node_defs=[]).to_job(),
        tags={"dagster/partition": partition},
        status=dg.DagsterRunStatus.STARTED,
    )
    assert client.delete(f"/api/v1/videos/{video_id}", headers=alice).status_code == 204
    assert left_in_store(storage, video_id, partition)  # the run may still write
    assert video_retention.purge_deleted(database, storage, instance) == 0

    instance.report_run_canceled(going)
    assert video_retention.purge_deleted(database, storage, instance) == 1
    assert left_in_store(storage, video_id, partition) == []
    assert not instance.has_dynamic_partition(VIDEOS, partition)


def test_deleting_an_account_asks_for_the_password(
    client, alice, completed, instance, storage, database
):
    video_id, _ = completed
    wrong = client.request(
        "DELETE", "/api/v1/auth/me", json={"password": "not the password 1"}, headers=alice
    )
    assert problem(wrong)[0] == 401
    assert problem(client.request("DELETE", "/api/v1/auth/me", json={}, headers=alice))[0] == 422

    gone = client.request("DELETE", "/api/v1/auth/me", json={"password": PASSWORD}, headers=alice)
    assert gone.status_code == 204
    assert problem(client.post("/api/v1/auth/validate", headers=alice))[0] == 401
    partition = partition_of_deleted(database, video_id)
    assert left_in_store(storage, video_id, partition) == []
    with database.session() as session:
        assert session.query(User).filter_by(email="alice@example.com").one_or_none() is None
        assert session.query(Video).count() == 0


def partition_of_deleted(database, video_id: str) -> str:
    with database.session() as session:
        [key] = session.get(DeletedVideo, video_id).partition_keys
        return key


def test_expired_results_are_410_with_a_reason(
    client, alice, completed, instance, storage, database
):
    video_id, job = completed
    partition = partition_of(database, job["jobId"])
    index_files = storage.list_keys(layout.FRAME_INDEX_PREFIX)
    assert video_retention.expire(database, storage, instance, utcnow() - dt.timedelta(days=1)) == 0
    assert video_retention.expire(database, storage, instance, utcnow() + dt.timedelta(1)) == 1

    status, detail = problem(client.get(job["downloadUrl"]))
    assert status == 410
    assert detail.startswith(f"the frames of this job were deleted on {utcnow():%Y-%m-%d}")
    assert "kept 30 days" in detail
    now = client.get(f"/api/v1/videos/jobs/{job['jobId']}", headers=alice).json()
    assert (now["status"], now["downloadUrl"]) == ("completed", None)
    assert now["resultsExpiredAt"] is not None
    assert left_in_store(storage, video_id, partition) == []
    assert storage.list_keys(layout.FRAME_INDEX_PREFIX) == index_files  # the rows stay
    assert not instance.has_dynamic_partition(VIDEOS, partition)

    other_options = create_job(client, alice, video_id, options={"fps": 1})
    assert problem(other_options)[0] == 410
    assert "the file and the frames of this video were deleted" in problem(other_options)[1]


def test_retention_zero_keeps_everything(client, completed, instance, storage, database):
    operations = OperationsSettings(retention_days=0)
    context = dg.build_sensor_context(
        instance=instance,
        resources={"database": database, "storage": storage, "operations": operations},
    )
    said = video_retention.results_retention(context)
    assert "kept for good" in said.skip_message
