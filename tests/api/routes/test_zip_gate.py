"""A ZIP that does not match its manifest is never announced as completed: the blocking
check fails the run, the job ends failed with a reason, and the user gets no download."""

import shutil
from typing import IO

from frameforge_core.models import OutboxMessage, VideoJob
from frameforge_pipeline.assets import checks
from frameforge_pipeline.engine.archive import FrameZip
from tests.api.routes.test_jobs import create_job, run_queue


def test_a_zip_that_does_not_match_its_manifest_fails_the_job(
    client, alice, upload, make_clip, instance, defs, database, monkeypatch
):
    def corrupting_copy(self: FrameZip, name: str, source: IO[bytes]) -> None:
        with self._zip.open(name, "w", force_zip64=True) as entry:
            shutil.copyfileobj(source, entry)
            entry.write(b"\0")  # one byte more than the manifest says

    monkeypatch.setattr(FrameZip, "copy", corrupting_copy)
    video_id = upload(alice, make_clip("cfr-3s.mp4", seconds=3).path.read_bytes())
    created = create_job(client, alice, video_id)
    assert created.status_code == 202, created.json()
    job_id = created.json()["jobId"]
    run_queue(instance, defs, database)

    job = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert job["status"] == "failed"
    assert job["downloadUrl"] is None
    assert job["error"].startswith(checks.ZIP_MISMATCH)
    assert "frame_000000.jpg: " in job["error"]
    assert "retry the job" in job["error"]
    with database.session() as session:
        row = session.query(VideoJob).filter_by(id=job_id).one()
        assert (row.status, row.error) == ("failed", job["error"])
        events = [m.routing_key for m in session.query(OutboxMessage)]
    assert "video.job.completed" not in events
    assert "video.job.failed" in events

    [check] = [
        c
        for c in instance.get_run_by_id(row.run_id) and _evaluations(instance, row.run_id)
        if c.check_name == "zip_matches_manifest"
    ]
    assert not check.passed
    assert check.metadata["count"].value >= 1  # every frame is one byte longer


def _evaluations(instance, run_id):
    import dagster as dg

    return [
        entry.dagster_event.event_specific_data
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]
