import datetime as dt
import io

import dagster as dg
import pytest
from fastapi.testclient import TestClient

from frameforge_api.main import create_app
from frameforge_api.services import jobs
from frameforge_core.models import OutboxMessage, VideoJob
from frameforge_core.settings import OperationsSettings
from frameforge_pipeline.engine.archive import zip_problems
from frameforge_pipeline.loggers import RUN_LOGGERS
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.resources import JobQueue
from frameforge_pipeline.sensors import job_outcome
from frameforge_pipeline.sensors.job_queue import job_queue
from tests.api.conftest import problem, sign_up_on


def create_job(client, user, video_id, **extra):
    headers = {**user, **extra.pop("headers", {})}
    return client.post("/api/v1/videos/jobs", json={"videoId": video_id, **extra}, headers=headers)


def run_queue(instance, defs, database, broker=None, execute: bool = True) -> list[dg.RunRequest]:
    """One sensor tick, and the runs it asks for, as the daemon would carry them out
    (``execute=False``: the daemon died before it could)."""
    context = dg.build_sensor_context(
        instance=instance, resources={"database": database, "jobs": broker or JobQueue()}
    )
    result = job_queue(context)
    if not execute:
        return list(result.run_requests)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(VIDEOS, list(request.partition_keys))
    for request in result.run_requests:
        outcome = defs.resolve_job_def("extract_video").execute_in_process(
            partition_key=request.partition_key,
            instance=instance,
            run_config=request.run_config,
            tags={**request.tags, "dagster/run_key": request.run_key},
            asset_selection=request.asset_selection,
            raise_on_error=False,
        )
        job_outcome.record_outcome(instance, instance.get_run_by_id(outcome.run_id), database)
    return list(result.run_requests)


def test_job_goes_from_queued_to_completed_with_a_download(
    client, alice, upload, make_clip, instance, defs, database
):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    created = create_job(client, alice, video_id, options={"fps": 2})
    assert created.status_code == 202
    job_id = created.json()["jobId"]
    assert created.json() == {"jobId": job_id, "status": "queued"}
    queued = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert (queued["status"], queued["progress"], queued["downloadUrl"]) == ("queued", 0, None)

    [request] = run_queue(instance, defs, database)
    assert request.run_key == f"{job_id}:0"
    done = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert done["status"] == "completed"
    assert done["progress"] == 1
    assert done["frameCount"] == 10
    assert done["video"]["codec"] == "h264"
    assert done["video"]["container"] == "mp4"  # not FFmpeg's "mov,mp4,m4a,3gp,3g2,mj2"
    assert (done["video"]["codedWidth"], done["video"]["hasAudio"]) == (320, False)
    assert done["video"]["sizeBytes"] > 0
    assert not [name for name in done["video"] if "_" in name]  # camelCase as all of the API
    assert done["options"]["fps"] == 2

    archive = client.get(done["downloadUrl"])
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    assert zip_problems(io.BytesIO(archive.content)) == []

    assert run_queue(instance, defs, database) == []  # nothing asked twice
    with database.session() as session:
        row = session.query(VideoJob).filter_by(id=job_id).one()
        assert (row.status, row.frame_count) == ("completed", 10)


def test_sensor_evaluated_twice_asks_for_one_run(
    client, alice, upload, make_clip, instance, database
):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    job_id = create_job(client, alice, video_id).json()["jobId"]
    context = dg.build_sensor_context(
        instance=instance, resources={"database": database, "jobs": JobQueue()}
    )
    first, second = job_queue(context), job_queue(context)
    assert [r.run_key for r in first.run_requests] == [r.run_key for r in second.run_requests]
    assert first.run_requests[0].run_key == f"{job_id}:0"
    assert first.run_requests[0].partition_key == f"{video_id}.44136fa355b3"  # default options


def test_rejected_video_fails_with_its_reason_and_is_not_retried(
    client, alice, upload, instance, defs, database, undecodable_video
):
    video_id = upload(alice, undecodable_video)
    job_id = create_job(client, alice, video_id).json()["jobId"]
    run_queue(instance, defs, database)
    failed = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert failed["status"] == "failed"
    reason = "the video stream cannot be decoded (Invalid data found when processing input)"
    assert failed["error"] == f"video rejected: {reason}"
    assert failed["downloadUrl"] is None
    assert failed["retryable"] is False

    # the same video would fail the same way, use a job slot and mail its user again
    retried = client.post(f"/api/v1/videos/jobs/{job_id}/retry", headers=alice)
    assert problem(retried) == (
        409,
        f"this video cannot be processed: {reason}; upload a different file",
    )
    assert run_queue(instance, defs, database) == []  # nothing is run
    with database.session() as session:
        row = session.query(VideoJob).filter_by(id=job_id).one()
        assert (row.status, row.attempt) == ("failed", 0)
        assert session.query(OutboxMessage).filter_by(routing_key="video.job.failed").count() == 1
    assert client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json() == failed


def test_a_job_failed_by_an_outage_can_be_retried(
    client, alice, upload, instance, defs, database, undecodable_video
):
    job_id = failed_job(client, alice, upload, instance, defs, database, undecodable_video)
    failed = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert (failed["status"], failed["retryable"]) == ("failed", True)

    retried = client.post(f"/api/v1/videos/jobs/{job_id}/retry", headers=alice)
    assert retried.status_code == 202
    assert (retried.json()["status"], retried.json()["retryable"]) == ("queued", False)
    [request] = run_queue(instance, defs, database)
    assert request.run_key == f"{job_id}:1"
    assert request.tags["dagster/parent_run_id"]


def run_queue_in_an_outage(client, instance, defs, database) -> None:
    """``run_queue`` while the store cannot be read: the runs fail, not by their videos
    (an outage, which a retry may get past)."""

    def unreachable(self, key):
        raise OSError(f"the store is unreachable (reading {key})")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(client.app.state.storage), "local_path", unreachable)
        run_queue(instance, defs, database)


def failed_job(client, user, upload, instance, defs, database, video) -> str:
    """A job whose run has failed in an outage (``run_queue_in_an_outage``) and whose
    outcome is recorded."""
    job_id = create_job(client, user, upload(user, video)).json()["jobId"]
    run_queue_in_an_outage(client, instance, defs, database)
    return str(job_id)


@pytest.fixture
def retrying_instance():
    """An instance that retries failed runs, step failures included, as Dagster decides."""
    retries = {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": True}
    with dg.instance_for_test(overrides={"run_retries": retries}) as instance:
        yield instance


@pytest.fixture
def awaiting_retry(
    settings, retrying_instance, storage, database_url, defs, database, undecodable_video
):
    """A client, its user's headers and a job whose run failed and that Dagster marked for
    retry (``dagster/will_retry=true``); no daemon runs, so no retry comes."""
    client = TestClient(create_app(settings, retrying_instance, storage, database_url))
    alice = sign_up_on(client, "alice@example.com")
    slot = client.post("/api/v1/videos/upload-url", json={"filename": "a.mp4"}, headers=alice)
    client.put(slot.json()["uploadUrl"], content=undecodable_video)
    job_id = create_job(client, alice, slot.json()["videoId"]).json()["jobId"]
    run_queue(retrying_instance, defs, database)  # fails; Dagster tags it will_retry=true
    return client, alice, job_id


def test_a_failed_run_that_dagster_retries_is_no_outcome_and_can_be_cancelled(
    awaiting_retry, retrying_instance, database
):
    instance = retrying_instance
    client, alice, job_id = awaiting_retry
    [run] = instance.get_runs()
    assert run.tags["dagster/will_retry"] == "true"
    with database.session() as session:
        assert session.query(VideoJob).filter_by(id=job_id).one().status == "queued"  # no outcome
        assert session.query(OutboxMessage).filter_by(routing_key="video.job.failed").count() == 0
    path = f"/api/v1/videos/jobs/{job_id}"
    assert client.get(path, headers=alice).json()["status"] == "running"

    assert client.post(f"{path}/cancel", headers=alice).json()["status"] == "cancelled"
    assert instance.get_run_by_id(run.run_id).tags["dagster/will_retry"] == "false"


def test_an_outcome_whose_reaction_failed_is_recorded_by_reconciliation(
    client, alice, upload, instance, defs, database, monkeypatch, undecodable_video
):
    job_id = create_job(client, alice, upload(alice, undecodable_video)).json()["jobId"]
    monkeypatch.setattr(job_outcome, "record_outcome", lambda *args: None)  # the reaction fails
    run_queue(instance, defs, database)
    run_queue(instance, defs, database)  # the run exists: the row is submitted
    monkeypatch.undo()
    monkeypatch.setattr(job_outcome, "RECONCILE_AFTER", dt.timedelta(0))
    resources = {"database": database, "operations": OperationsSettings()}
    context = dg.build_sensor_context(instance=instance, resources=resources)
    skipped = job_outcome.job_outcome_reconciliation(context)
    assert skipped.skip_message == "1 missed outcomes recorded of 1 checked"
    with database.session() as session:
        assert session.query(VideoJob).filter_by(id=job_id).one().status == "failed"
        assert session.query(OutboxMessage).filter_by(routing_key="video.job.failed").count() == 1


def test_an_ended_job_is_read_from_the_cache_until_it_changes(
    client, alice, upload, instance, defs, database, monkeypatch, undecodable_video
):
    job_id = failed_job(client, alice, upload, instance, defs, database, undecodable_video)
    lookups = []
    real_lookup = jobs.job_runs.current_runs
    monkeypatch.setattr(
        jobs.job_runs, "current_runs", lambda *args: lookups.append(args) or real_lookup(*args)
    )
    views = [client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json() for _ in range(3)]
    assert views[0]["status"] == "failed"
    assert views[0] == views[1] == views[2]
    assert len(lookups) == 1  # the Dagster instance was asked once
    assert client.get("/api/v1/videos/jobs", headers=alice).json()["items"] == [views[0]]
    assert len(lookups) == 1

    client.post(f"/api/v1/videos/jobs/{job_id}/retry", headers=alice)
    # the change shows at once, not after the cache's 5 minutes
    assert client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()["status"] == "queued"


def test_retry_resumes_from_the_failed_step(
    client, alice, upload, make_clip, instance, defs, database, storage, monkeypatch
):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    job_id = create_job(client, alice, video_id).json()["jobId"]
    real_open_write = type(storage).open_write

    def full_disk_for_zips(self, key):
        if key.endswith(".zip"):
            raise OSError(28, "No space left on device")
        return real_open_write(self, key)

    monkeypatch.setattr(type(storage), "open_write", full_disk_for_zips)
    run_queue(instance, defs, database)
    failed = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert failed["status"] == "failed"
    assert failed["error"].startswith("processing failed unexpectedly in step frames_zip (run ")
    assert "/tmp" not in failed["error"]  # no internals for the user
    assert 0 < failed["progress"] < 1

    monkeypatch.setattr(type(storage), "open_write", real_open_write)
    client.post(f"/api/v1/videos/jobs/{job_id}/retry", headers=alice)
    [request] = run_queue(instance, defs, database)
    selected = {key.to_user_string() for key in request.asset_selection}
    assert "frames_zip" in selected
    assert selected.isdisjoint({"source_video", "frames", "manifest"})  # not done again
    assert request.run_config == RUN_LOGGERS  # no options: frames is not run again
    done = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert done["status"] == "completed"
    assert done["progress"] == 1
    assert done["frameCount"] == 5  # made by the first attempt, still reported
    assert done["video"]["codec"] == "h264"
    assert client.get(done["downloadUrl"]).status_code == 200


def test_cancel_a_queued_job_and_retry_it(
    client, alice, upload, make_clip, instance, defs, database
):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    job_id = create_job(client, alice, video_id).json()["jobId"]
    cancelled = client.post(f"/api/v1/videos/jobs/{job_id}/cancel", headers=alice)
    assert cancelled.json()["status"] == "cancelled"
    assert run_queue(instance, defs, database) == []  # a cancelled job never runs
    again = client.post(f"/api/v1/videos/jobs/{job_id}/cancel", headers=alice)
    assert problem(again) == (409, "the job has already been cancelled")
    assert client.post(f"/api/v1/videos/jobs/{job_id}/retry", headers=alice).status_code == 202
    [request] = run_queue(instance, defs, database)
    assert request.run_key == f"{job_id}:1"
    assert (
        client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()["status"] == "completed"
    )


def test_retrying_a_queued_job_is_409(client, alice, upload, undecodable_video):
    video_id = upload(alice, undecodable_video)
    job_id = create_job(client, alice, video_id).json()["jobId"]
    answer = client.post(f"/api/v1/videos/jobs/{job_id}/retry", headers=alice)
    assert problem(answer) == (
        409,
        "only a failed or cancelled job can be retried; this one is queued",
    )


def test_other_users_jobs_do_not_exist_for_them(client, alice, bob, upload, undecodable_video):
    video_id = upload(alice, undecodable_video)
    job_id = create_job(client, alice, video_id).json()["jobId"]
    for method, path in [
        ("get", f"/api/v1/videos/jobs/{job_id}"),
        ("post", f"/api/v1/videos/jobs/{job_id}/cancel"),
        ("post", f"/api/v1/videos/jobs/{job_id}/retry"),
    ]:
        assert problem(client.request(method, path, headers=bob)) == (404, "no such job")
    assert client.get("/api/v1/videos/jobs", headers=bob).json()["items"] == []
    # nor can Bob start a job on Alice's video
    assert problem(create_job(client, bob, video_id))[0] == 422
    assert client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()["status"] == "queued"


def test_unknown_and_not_uploaded_videos(client, alice):
    assert problem(create_job(client, alice, "no-such-video")) == (
        422,
        "no video no-such-video: ask for an upload URL first",
    )
    slot = client.post(
        "/api/v1/videos/upload-url", json={"filename": "a.mp4"}, headers=alice
    ).json()
    assert problem(create_job(client, alice, slot["videoId"])) == (
        409,
        f"video {slot['videoId']} has not been uploaded yet",
    )


@pytest.mark.parametrize(
    ("options", "detail"),
    [
        ({"fps": 0}, "options.fps: Input should be greater than or equal to 0.001"),
        ({"format": "gif"}, "options.format: Input should be 'jpg', 'png' or 'webp'"),
        ({"maxWidht": 100}, "options.maxWidht: Extra inputs are not permitted"),
        ({"start": 5, "end": 2}, "options: end (2.0 s) must be after start (5.0 s)"),
    ],
)
def test_invalid_options_are_422(client, alice, upload, options, detail, undecodable_video):
    video_id = upload(alice, undecodable_video)
    status, message = problem(create_job(client, alice, video_id, options=options))
    assert status == 422
    assert message == detail


@pytest.mark.parametrize("name", ["maxWidth", "max_width"])
def test_options_are_camel_case_like_every_field_and_snake_case_is_accepted(
    client, alice, upload, name, undecodable_video
):
    video_id = upload(alice, undecodable_video)
    created = create_job(client, alice, video_id, options={name: 320, "maxHeight": 200})
    assert created.status_code == 202
    job = client.get(f"/api/v1/videos/jobs/{created.json()['jobId']}", headers=alice).json()
    assert job["options"]["maxWidth"] == 320
    assert job["options"]["maxHeight"] == 200


def test_idempotency_key(client, alice, upload, undecodable_video):
    video_id = upload(alice, undecodable_video)
    key = {"Idempotency-Key": "order-42"}
    first = create_job(client, alice, video_id, headers=key).json()
    again = create_job(client, alice, video_id, headers=key).json()
    assert first == again
    other = create_job(client, alice, video_id, options={"fps": 5}, headers=key)
    assert problem(other) == (409, "this Idempotency-Key was used with a different request body")
    assert len(client.get("/api/v1/videos/jobs", headers=alice).json()["items"]) == 1


def test_list_is_newest_first_with_a_cursor(client, alice, upload, undecodable_video):
    ids = [
        create_job(client, alice, upload(alice, undecodable_video)).json()["jobId"]
        for _ in range(5)
    ]
    first = client.get("/api/v1/videos/jobs", params={"limit": 2}, headers=alice).json()
    assert [j["jobId"] for j in first["items"]] == ids[:-3:-1]
    rest = client.get(
        "/api/v1/videos/jobs", params={"limit": 10, "cursor": first["nextCursor"]}, headers=alice
    ).json()
    assert [j["jobId"] for j in rest["items"]] == ids[2::-1]
    assert rest["nextCursor"] is None
    bad = client.get("/api/v1/videos/jobs", params={"cursor": "../1"}, headers=alice)
    assert problem(bad)[0] == 422


def test_download_urls_are_signed_per_job(client, alice, upload, undecodable_video):
    video_id = upload(alice, undecodable_video)
    job_id = create_job(client, alice, video_id).json()["jobId"]
    forged = client.get(
        f"/api/v1/downloads/{job_id}", params={"expires": 9999999999, "signature": "0" * 64}
    )
    assert problem(forged) == (403, "the signature of this URL is not valid")


def test_one_live_job_per_rendition(
    client, alice, upload, instance, defs, database, undecodable_video
):
    """The same options are the same job while it lives; other options another job
    (tests/api/routes/test_renditions.py has the rest)."""
    video_id = upload(alice, undecodable_video)
    first = create_job(client, alice, video_id).json()["jobId"]
    again = create_job(client, alice, video_id)
    assert (again.status_code, again.json()["jobId"]) == (200, first)
    assert create_job(client, alice, video_id, options={"fps": 2}).status_code == 202
    run_queue_in_an_outage(client, instance, defs, database)  # both fail: new jobs may follow
    second = create_job(client, alice, video_id)
    assert second.status_code == 202
    retry_first = client.post(f"/api/v1/videos/jobs/{first}/retry", headers=alice)
    assert problem(retry_first) == (
        409,
        f"these options of this video already have job {second.json()['jobId']}",
    )
