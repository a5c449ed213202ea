"""A file that is not a video is refused when its job is asked for (422, the reason the
pipeline's probe would give), from the container header the quotas read anyway: no job,
no message, no run; the upload is still the user's (to delete). Only a file whose header is
fine but whose frames cannot be decoded still fails in its run. (On S3:
tests/integration/test_s3_uploads.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from frameforge_core.models import OutboxMessage, Video, VideoJob
from frameforge_pipeline.engine.errors import VideoError, rejection
from frameforge_pipeline.engine.probe import probe
from tests.api.conftest import problem
from tests.api.routes.test_jobs import create_job, run_queue
from tests.sample_clips import write_audio_only

NOT_VIDEOS = {
    "notes.txt": b"Meeting notes\n- frames\n- more frames\n" * 20,
    "random.mp4": bytes(range(256)) * 40,
}


def the_pipelines_reason(path: Path) -> str:
    """What the run would have said of the file: the probe's refusal."""
    with pytest.raises(VideoError) as refused:
        probe(path)
    return rejection(refused.value)


@pytest.fixture(scope="module")
def audio_only(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "song.m4a"
    write_audio_only(path)
    return path


@pytest.mark.parametrize("name", [*NOT_VIDEOS, "song.m4a"])
def test_a_file_that_is_not_a_video_is_refused_at_once_and_nothing_else_happens(
    client, alice, upload, database, instance, tmp_path, audio_only, name
):
    path = audio_only if name == "song.m4a" else tmp_path / name
    if name in NOT_VIDEOS:
        path.write_bytes(NOT_VIDEOS[name])
    video_id = upload(alice, path.read_bytes(), filename=name)
    with database.session() as session:
        outbox_before = session.query(OutboxMessage).count()  # alice's verification mail

    answer = create_job(client, alice, video_id)
    status, detail = problem(answer)
    assert (status, detail) == (422, the_pipelines_reason(path))
    assert detail.startswith(("video rejected: not a video file", "video rejected: no video"))

    with database.session() as session:
        assert session.query(VideoJob).count() == 0
        assert session.query(OutboxMessage).count() == outbox_before
        assert session.get(Video, video_id) is not None  # still the user's, to delete
    assert instance.get_runs() == []
    assert client.get("/api/v1/videos/jobs", headers=alice).json()["items"] == []
    # refused again, the same way (nothing half made the first time)
    assert problem(create_job(client, alice, video_id)) == (status, detail)


def test_a_video_whose_frames_cannot_be_decoded_still_fails_in_its_run(
    client, alice, upload, instance, defs, database, undecodable_video, tmp_path
):
    job = create_job(client, alice, upload(alice, undecodable_video))
    assert job.status_code == 202  # its header is fine: the run finds out
    run_queue(instance, defs, database)
    failed = client.get(f"/api/v1/videos/jobs/{job.json()['jobId']}", headers=alice).json()
    (tmp_path / "undecodable.mp4").write_bytes(undecodable_video)
    assert failed["status"] == "failed"
    assert failed["error"] == the_pipelines_reason(tmp_path / "undecodable.mp4")


def test_a_window_after_the_end_of_the_video_is_refused(client, alice, upload, make_clip):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    assert problem(create_job(client, alice, video_id, options={"start": 40})) == (
        422,
        "the window starts at 40 s, after the end of the video (5.0 s): there is no frame to "
        "extract; lower start",
    )
