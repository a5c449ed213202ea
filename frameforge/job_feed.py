"""What `frameforge up` prints once the stack runs: one line per change of a job's state.

The states come from the app database (every job's row says queued, submitted, completed,
failed or cancelled) and, for a submitted job, from its Dagster run (running: the row does not
say when a run starts). The feed looks every second: a job that starts and ends between two
looks is shown ended without a "running" line (its "completed" says it ran). A job
whose video is deleted (its row goes with it) is shown deleted, with how its run ended if the
row could not say so first. The processes' own logs go to files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import dagster as dg
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from frameforge_core.lifecycle import ENDED, JobStatus
from frameforge_core.models import DeletedVideo, VideoJob, utcnow
from frameforge_pipeline.gateway import job_runs

# A row's updated_at is set by the writer's clock when it commits: a change committed a
# little later than its timestamp is still seen when the next look goes back this far.
OVERLAP = dt.timedelta(seconds=30)
NAME_WIDTH = 32  # the file name's column: the states after it line up

# the status of each of these Dagster runs, in the API's words (job_runs.run_status); runs it
# cannot find are left out
RunStatuses = Callable[[list[str]], Mapping[str, JobStatus]]


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
    video_id: str

    def line(self, what: str | None = None) -> str:
        """``14:03:07  job 718116b2  clip.mp4  completed: 10 frames in 0.6 s``"""
        now = dt.datetime.now().astimezone()
        name = fit(self.file_name, NAME_WIDTH).ljust(NAME_WIDTH)
        return f"{now:%H:%M:%S}  job {self.job_id[:8]}  {name}  {what or self.what()}"

    def what(self) -> str:
        return {
            JobStatus.QUEUED: "queued"
            if not self.attempt
            else f"queued (attempt {self.attempt + 1})",
            JobStatus.SUBMITTED: f"submitted to Dagster (run {(self.run_id or '?')[:8]})",
            JobStatus.RUNNING: "running",
            JobStatus.COMPLETED: f"completed: {self.frame_count} frames"
            + (f" in {self.seconds:.1f} s" if self.seconds is not None else ""),
            JobStatus.FAILED: f"failed: {self.error or 'no reason given'}",
            JobStatus.CANCELLED: "cancelled",
        }.get(JobStatus(self.status), self.status)


def fit(text: str, width: int) -> str:
    """``text`` on one line in at most ``width`` characters: cut at a word where it can be,
    and then ending in "…"."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut and cut.rindex(" ") >= width // 2:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" .,;:-") + "…"


class JobFeed:
    """The lines of the jobs whose state changed since the feed began or last looked."""

    def __init__(self, sessions: sessionmaker[Session], run_statuses: RunStatuses):
        self.sessions = sessions
        self.run_statuses = run_statuses
        self.since = utcnow()
        self.seen: dict[str, JobState] = {}  # job id -> the state last printed
        self.changes()  # what changed just before the feed began is not news

    def changes(self) -> list[str]:
        """One line per change of a job's state; none while the database cannot be read
        (the API's own log says why)."""
        looked_at = utcnow()
        try:
            with self.sessions() as session:
                rows = session.execute(
                    select(
                        VideoJob.id, VideoJob.file_name, VideoJob.status, VideoJob.attempt,
                        VideoJob.run_id, VideoJob.frame_count, VideoJob.processing_seconds,
                        VideoJob.error, VideoJob.video_id,
                    )
                    .where(VideoJob.updated_at >= self.since - OVERLAP)
                    .order_by(VideoJob.updated_at, VideoJob.seq)
                ).all()  # fmt: skip
                deleted = set(
                    session.scalars(
                        select(DeletedVideo.video_id).where(
                            DeletedVideo.deleted_at >= self.since - OVERLAP
                        )
                    )
                )
        except SQLAlchemyError:
            return []
        self.since = looked_at
        lines = [self._show(JobState(*row)) for row in rows]
        lines += self._deleted([s.job_id for s in self.seen.values() if s.video_id in deleted])
        lines += self._started()
        return [line for line in lines if line]

    def _show(self, state: JobState) -> str | None:
        before = self.seen.get(state.job_id)
        same = before is not None and (before.attempt, before.status) == (
            state.attempt,
            state.status,
        )
        if same or _ran_on(before, state):
            return None
        self.seen[state.job_id] = state
        return state.line()

    def _deleted(self, job_ids: list[str]) -> list[str]:
        """The jobs of deleted videos (their rows go with the video), with how a run the feed
        had not seen end ended."""
        gone = [self.seen.pop(job_id) for job_id in job_ids]
        unfinished = [s.run_id for s in gone if s.run_id and s.status not in ENDED]
        ended = self._statuses(unfinished)
        lines = []
        for state in gone:
            status = ended.get(state.run_id or "")
            how = f"{status}, then " if status in ENDED and state.status not in ENDED else ""
            lines.append(state.line(f"{how}deleted"))
        return lines

    def _started(self) -> list[str]:
        submitted = {s.run_id: s for s in self.seen.values() if s.status == JobStatus.SUBMITTED}
        statuses = self._statuses([run_id for run_id in submitted if run_id])
        lines = []
        for run_id, status in statuses.items():
            if status == JobStatus.RUNNING and (state := submitted.get(run_id)):
                running = replace(state, status=JobStatus.RUNNING)
                self.seen[state.job_id] = running
                lines.append(running.line())
        return lines

    def _statuses(self, run_ids: list[str]) -> Mapping[str, JobStatus]:
        if not run_ids:
            return {}
        try:
            return self.run_statuses(run_ids)
        except Exception:  # the instance's storage, any kind: the next look asks again
            return {}


def dagster_run_statuses(instance: dg.DagsterInstance) -> RunStatuses:
    """``RunStatuses`` read from the Dagster instance."""

    def statuses(run_ids: list[str]) -> Mapping[str, JobStatus]:
        runs = instance.get_runs(dg.RunsFilter(run_ids=run_ids))
        return {run.run_id: job_runs.run_status(run) for run in runs}

    return statuses


def _ran_on(before: JobState | None, now: JobState) -> bool:
    """The row still says submitted about a run the feed has already shown running."""
    return (
        before is not None
        and before.status == JobStatus.RUNNING
        and now.status == JobStatus.SUBMITTED
        and before.attempt == now.attempt
    )
