"""Pipeline and notifier metrics, computed from the rows the other processes write."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from frameforge_api.core.job_metrics import DURATION_BUCKETS, JobMetricsCollector
from frameforge_core.database import create_db_engine, migrate, session_factory
from frameforge_core.models import NotificationLog, User, Video, VideoJob, new_id

# (status, frame_count, processing_seconds) as the pipeline leaves them
JOBS = [
    ("completed", 10, 2.0),
    ("completed", 20, 40.0),
    ("failed", None, 0.5),
    ("cancelled", None, None),
    ("queued", None, None),
    ("queued", None, None),
    ("submitted", None, None),
]
# (status, attempt) as the notifier leaves them: an attempt after the first is a retry
NOTIFICATIONS = [("sent", 1), ("failed", 1), ("sent", 2), ("failed", 2), ("failed", 3)]


def add_jobs(session: Session, jobs: list[tuple[str, int | None, float | None]]) -> list[str]:
    """Insert the jobs (each of its own video, as the API does) and return their ids."""
    user = User(id=new_id(), email=f"{uuid.uuid4().hex}@example.com", password_hash="-")
    session.add(user)
    ids = []
    for status, frames, seconds in jobs:
        video = Video(
            id=new_id(), user_id=user.id, filename="clip.mp4", content_type="video/mp4",
            storage_key="uploads/clip.mp4", max_bytes=1,
        )  # fmt: skip
        job = VideoJob(
            id=new_id(), user_id=user.id, video_id=video.id, options={}, status=status,
            frame_count=frames, processing_seconds=seconds,
        )  # fmt: skip
        session.add_all([video, job])
        ids.append(job.id)
    session.commit()
    return ids


def seed(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        job_id = add_jobs(session, JOBS)[0]
        for status, attempt in NOTIFICATIONS:
            session.add(
                NotificationLog(
                    job_id=job_id, event="job.completed", channel="email", status=status,
                    attempt=attempt,
                )
            )  # fmt: skip
        session.commit()


def registry_of(sessions: sessionmaker[Session]) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(JobMetricsCollector(sessions))
    return registry


def assert_seeded_numbers(registry: CollectorRegistry) -> None:
    """The metrics of ``seed``'s rows; shared with the PostgreSQL test."""

    def get(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert get("video_processing_total", status="completed") == 2
    assert get("video_processing_total", status="failed") == 1
    assert get("video_processing_total", status="cancelled") == 1
    assert get("video_frames_extracted_total") == 30
    assert get("queue_depth") == 2
    duration = "video_processing_duration_seconds"
    assert get(f"{duration}_bucket", le="1.0") == 1
    assert get(f"{duration}_bucket", le="5.0") == 2
    assert get(f"{duration}_bucket", le="30.0") == 2
    assert get(f"{duration}_bucket", le="60.0") == 3
    assert get(f"{duration}_bucket", le="+Inf") == 3
    assert get(f"{duration}_count") == 3
    assert get(f"{duration}_sum") == pytest.approx(42.5)
    assert get("notification_delivery_total", status="sent") == 2
    assert get("notification_delivery_total", status="failed") == 3
    assert get("notification_retry_attempts_total") == 3


def test_metrics_follow_the_rows_other_processes_write(client):
    registry = client.app.state.metrics_registry
    assert registry.get_sample_value("queue_depth") == 0  # every series exists from the start
    assert registry.get_sample_value("video_processing_total", {"status": "failed"}) == 0
    seed(client.app.state.sessions)
    assert_seeded_numbers(registry)
    text = client.get("/metrics").text
    assert "\nqueue_depth 2.0\n" in text
    assert 'video_processing_total{status="completed"} 2.0' in text


def test_without_the_database_the_scrape_goes_on_without_them(tmp_path, caplog):
    unmigrated = session_factory(create_db_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    assert list(JobMetricsCollector(unmigrated).collect()) == []
    assert "did not answer" in caplog.text


@pytest.fixture(scope="module")
def jobs_database(tmp_path_factory: pytest.TempPathFactory) -> sessionmaker[Session]:
    engine = create_db_engine(f"sqlite:///{tmp_path_factory.mktemp('jobs') / 'app.db'}")
    migrate(engine)
    return session_factory(engine)


SECONDS = st.none() | st.sampled_from(DURATION_BUCKETS) | st.floats(0, 7200)
STATUSES = st.sampled_from(["queued", "submitted", "completed", "failed", "cancelled"])


@given(jobs=st.lists(st.tuples(STATUSES, st.none() | st.integers(0, 10**6), SECONDS), max_size=8))
def test_the_numbers_are_those_of_the_rows(jobs_database: sessionmaker[Session], jobs):
    """Whatever the rows, the grouped SQL gives what counting them one by one gives
    (a run of exactly a bucket's bound falls in that bucket)."""
    with jobs_database() as session:
        session.execute(delete(VideoJob))
        session.execute(delete(Video))
        add_jobs(session, jobs)
    registry = registry_of(jobs_database)
    timed = [seconds for _, _, seconds in jobs if seconds is not None]
    for bound in DURATION_BUCKETS:
        within = registry.get_sample_value(
            "video_processing_duration_seconds_bucket", {"le": str(bound)}
        )
        assert within == sum(1 for seconds in timed if seconds <= bound)
    assert registry.get_sample_value("video_processing_duration_seconds_count") == len(timed)
    assert registry.get_sample_value("video_processing_duration_seconds_sum") == pytest.approx(
        sum(timed)
    )
    for status in ("completed", "failed", "cancelled"):
        ended = registry.get_sample_value("video_processing_total", {"status": status})
        assert ended == sum(1 for job in jobs if job[0] == status)
    assert registry.get_sample_value("queue_depth") == sum(1 for job in jobs if job[0] == "queued")
    frames = registry.get_sample_value("video_frames_extracted_total")
    assert frames == sum(job[1] or 0 for job in jobs)
