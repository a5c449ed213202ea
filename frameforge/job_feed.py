"""What `frameforge up` prints once the stack runs: one line per change of a job's state,
read from the app database (every job's row says queued, submitted, completed, failed or
cancelled; the processes' own logs go to files)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from frameforge_core.lifecycle import JobStatus
from frameforge_core.models import VideoJob, utcnow

# A row's updated_at is set by the writer's clock when it commits: a change committed a
# little later than its timestamp is still seen when the next look goes back this far.
OVERLAP = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class JobState:
    job_id: str
    file_name: str
    status: str
    attempt: int
    run_id: str | None
    frame_count: int | None
    seconds: float | None
    error: str | None

    def line(self) -> str:
        """``14:03:07  job 718116b2  clip.mp4  completed: 10 frames in 0.6 s``"""
        what = {
            JobStatus.QUEUED: "queued"
            if not self.attempt
            else f"queued (attempt {self.attempt + 1})",
            JobStatus.SUBMITTED: f"submitted to Dagster (run {(self.run_id or '?')[:8]})",
            JobStatus.COMPLETED: f"completed: {self.frame_count} frames"
            + (f" in {self.seconds:.1f} s" if self.seconds is not None else ""),
            JobStatus.FAILED: f"failed: {self.error or 'no reason given'}",
            JobStatus.CANCELLED: "cancelled",
        }.get(JobStatus(self.status), self.status)
        now = dt.datetime.now().astimezone()
        return f"{now:%H:%M:%S}  job {self.job_id[:8]}  {_one_line(self.file_name)}  {what}"


def _one_line(text: str) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:80]


class JobFeed:
    """The lines of the jobs whose state changed since the feed began or last looked."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions
        self.since = utcnow()
        self.seen: dict[str, tuple[str, int]] = {}  # job id -> (status, attempt) printed
        self.changes()  # what changed just before the feed began is not news

    def changes(self) -> list[str]:
        """One line per job whose state changed; none while the database cannot be read
        (the API's own log says why)."""
        looked_at = utcnow()
        try:
            with self.sessions() as session:
                rows = session.execute(
                    select(
                        VideoJob.id, VideoJob.file_name, VideoJob.status, VideoJob.attempt,
                        VideoJob.run_id, VideoJob.frame_count, VideoJob.processing_seconds,
                        VideoJob.error,
                    )
                    .where(VideoJob.updated_at >= self.since - OVERLAP)
                    .order_by(VideoJob.updated_at, VideoJob.seq)
                ).all()  # fmt: skip
        except SQLAlchemyError:
            return []
        self.since = looked_at
        lines = []
        for row in rows:
            state = JobState(*row)
            if self.seen.get(state.job_id) != (state.status, state.attempt):
                self.seen[state.job_id] = (state.status, state.attempt)
                lines.append(state.line())
        return lines
