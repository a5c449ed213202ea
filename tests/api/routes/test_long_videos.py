"""A job remembers its video's duration as the header declares it: the job sensor runs a long
video's segments side by side (frameforge_pipeline/segmenting.py), and asks for nothing more
for a short one."""

from sqlalchemy import select

from frameforge_api.core.config import Settings
from frameforge_core.models import VideoJob
from tests.api.routes.test_jobs import create_job, run_queue


def test_a_job_records_the_duration_its_run_is_chosen_by(
    client, alice, upload, make_clip, instance, defs, database
):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    job_id = create_job(client, alice, video_id).json()["jobId"]
    with database.session() as session:
        job = session.scalars(select(VideoJob).where(VideoJob.id == job_id)).one()
        assert job.video_seconds == 5.0
    [request] = run_queue(instance, defs, database, execute=False)
    assert "execution" not in request.run_config  # 5 s: one piece, in the run's process


def test_a_day_of_video_is_within_the_default_quota() -> None:
    """Long videos are split: the per-job cap is a day (3 h before segments)."""
    assert Settings().quota_video_seconds == 24 * 3600
