"""What a job's Dagster runs say: status, progress, frame count, facts, failure reason.

Runs of a job carry the tags ``frameforge/job_id`` and ``frameforge/attempt``; the API and
the sensors read a job's state through this module, from the instance, never from a guess
of their own.

Progress is the share of the run's work done, the extraction of frames weighted as most of
it: while ``frames`` runs, it reports the frames done of those expected in the run's tag
``frameforge/progress`` (``120/300``; ``4/?`` when the count cannot be known beforehand, as in
scene mode) at most every ``PROGRESS_INTERVAL_SECONDS`` (``RunProgress``). The API reads the
tag with the run it reads anyway, and an operator sees it on the run in the Dagster UI.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from frameforge_core.lifecycle import JobStatus, Outcome
from frameforge_core.models import VideoJob

JOB_ID_TAG = "frameforge/job_id"
TRACE_ID_TAG = "frameforge/trace_id"
ATTEMPT_TAG = "frameforge/attempt"
USER_ID_TAG = "frameforge/user_id"  # per-user run concurrency limits key on it
FILE_NAME_TAG = "frameforge/file_name"  # the user's file name: the Runs page filters by it
REJECTED_TAG = "frameforge/rejected"  # on a run failed by its video, not by an outage
STEPS = ("source_video", "frames", "storyboard", "manifest", "frames_zip", "frame_index")
# what each step weighs in a job's progress: extracting the frames is most of a run's work
WEIGHTS = {
    "source_video": 1.0,
    "frames": 16.0,
    "storyboard": 1.0,
    "manifest": 0.5,
    "frames_zip": 1.0,
    "frame_index": 0.5,
}
PROGRESS_TAG = "frameforge/progress"  # frames done / expected while frames runs: "120/300"
PROGRESS_INTERVAL_SECONDS = 2.0
_PROGRESS = re.compile(r"^(\d+)/(\d+|\?)$")
WILL_RETRY_TAG = "dagster/will_retry"  # on a failed run that the daemon is about to retry
PARENT_RUN_TAG = "dagster/parent_run_id"  # on a retry (Dagster's or ours), the run it retries
# on a failed run whose retry never came (job_outcome_reconciliation): failed for good
RETRY_OVERDUE_TAG = "frameforge/retry_overdue"
RETRY_OVERDUE_ERROR = (
    "processing was interrupted by an outage and its automatic retry never started; retry the job"
)

_STATUS = {
    dg.DagsterRunStatus.QUEUED: JobStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED: JobStatus.QUEUED,
    # launched, its process not started yet: Dagster stamps the start time at STARTED, so
    # a job is running once it has one (a pod may wait minutes to be scheduled)
    dg.DagsterRunStatus.STARTING: JobStatus.QUEUED,
    dg.DagsterRunStatus.STARTED: JobStatus.RUNNING,
    dg.DagsterRunStatus.SUCCESS: JobStatus.COMPLETED,
    dg.DagsterRunStatus.FAILURE: JobStatus.FAILED,
    dg.DagsterRunStatus.CANCELING: JobStatus.CANCELLED,
    dg.DagsterRunStatus.CANCELED: JobStatus.CANCELLED,
}
_NOT_LAUNCHED = (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    run_id: str | None
    status: JobStatus  # queued | running | completed | failed | cancelled
    progress: float  # 0..1: share of the run's work done (WEIGHTS), frames as they come
    frame_count: int | None = None
    frames_done: int | None = None  # while frames are extracted: so far, of those expected
    frames_expected: int | None = None  # None when they cannot be known beforehand
    video: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    rejected: bool = False  # failed by its video (``REJECTED_TAG``): retrying cannot help
    started_at: float | None = None  # unix time the run process started
    finished_at: float | None = None

    def to_outcome(self) -> Outcome:
        """What the job row records of this (ended) run."""
        assert self.run_id is not None
        seconds = (
            self.finished_at - self.started_at
            if self.started_at is not None and self.finished_at is not None
            else None
        )
        return Outcome(self.status, self.run_id, self.frame_count, self.error, seconds)


def attempt_run(instance: dg.DagsterInstance, job_id: str, attempt: int) -> dg.DagsterRun | None:
    """The run of one attempt of a job, once the sensor has had it created (a tag search)."""
    record = _attempt_record(instance, job_id, attempt)
    return record.dagster_run if record else None


def _attempt_record(instance: dg.DagsterInstance, job_id: str, attempt: int) -> dg.RunRecord | None:
    tags = {JOB_ID_TAG: job_id, ATTEMPT_TAG: str(attempt)}
    records = instance.get_run_records(filters=dg.RunsFilter(tags=tags), limit=1)
    return records[0] if records else None


def current_run(instance: dg.DagsterInstance, job: VideoJob) -> dg.DagsterRun | None:
    """The run of the job's current attempt (see ``current_runs``)."""
    record = current_runs(instance, [job])[job.id]
    return record.dagster_run if record else None


def current_runs(
    instance: dg.DagsterInstance, jobs: Sequence[VideoJob]
) -> dict[str, dg.RunRecord | None]:
    """The record of each job's current run, by job id: the runs the rows remember once
    submitted in one query (a page of jobs is not one query per job), the others by tag
    search (the run may exist before the row says so). A record holds the run and its
    start and end times, so ``outcome`` need not read it again."""
    remembered = [job.run_id for job in jobs if job.run_id is not None]
    records = (
        {
            record.dagster_run.run_id: record
            for record in instance.get_run_records(filters=dg.RunsFilter(run_ids=remembered))
        }
        if remembered
        else {}
    )
    return {
        job.id: (records.get(job.run_id) if job.run_id is not None else None)
        or _attempt_record(instance, job.id, job.attempt)
        for job in jobs
    }


def stop(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    """Stop a job's run for its user's cancel: a queued run is dropped, a crashed run's
    pending retry is called off, a running one is terminated. A run whose worker cannot be
    reached (its code server or pod is gone) is marked cancelled at once, so it holds no
    run slot waiting for an answer that will not come."""
    if run.status in _NOT_LAUNCHED:
        instance.report_run_canceled(run, message="cancelled by its user")
    elif run.status == dg.DagsterRunStatus.FAILURE:  # crashed, waiting for Dagster's retry
        instance.add_run_tags(run.run_id, {WILL_RETRY_TAG: "false"})
    elif run.is_finished:
        return
    else:
        try:
            reached = instance.run_launcher.terminate(run.run_id)
        except Exception:  # DagsterUserCodeUnreachableError and its kin: no one answers
            log.warning("run %s: its worker cannot be reached", run.run_id, exc_info=True)
            reached = False
        latest = instance.get_run_by_id(run.run_id) or run
        if not reached and not latest.is_finished:
            instance.report_run_canceled(
                latest, message="cancelled by its user; its run worker could not be reached"
            )


def materialized(instance: dg.DagsterInstance, run_id: str) -> set[str]:
    """The assets a run materialized."""
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    return {
        entry.dagster_event.asset_key.to_user_string()
        for entry in events
        if entry.dagster_event is not None and entry.dagster_event.asset_key is not None
    }


def run_status(run: dg.DagsterRun) -> JobStatus:
    """A run's status in the API's words. A failed run that Dagster retries (its process
    died) is still running, as far as the job is concerned."""
    if run.status == dg.DagsterRunStatus.FAILURE and will_retry(run):
        return JobStatus.RUNNING
    return _STATUS.get(run.status, JobStatus.RUNNING)


def will_retry(run: dg.DagsterRun) -> bool:
    return run.tags.get(WILL_RETRY_TAG) == "true"


def retry_overdue(instance: dg.DagsterInstance, run: dg.DagsterRun, after: float) -> bool:
    """A failed run marked for Dagster's retry that has no retry ``after`` seconds past its
    end: the daemon lost it (an outage while it dequeued or retried), and no retry will come."""
    if not (run.status == dg.DagsterRunStatus.FAILURE and will_retry(run)):
        return False
    record = instance.get_run_record_by_id(run.run_id)
    ended = record.end_time if record and record.end_time else None
    if ended is None and record is not None:
        ended = record.update_timestamp.timestamp()
    if ended is None or time.time() - ended < after:
        return False
    retries = dg.RunsFilter(tags={PARENT_RUN_TAG: run.run_id})
    return not instance.get_run_records(filters=retries, limit=1)


def give_up_retry(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dg.DagsterRun:
    """Call off Dagster's retry of ``run`` for good: it is the job's outcome, a failure whose
    error says so (``RETRY_OVERDUE_ERROR``). The run as it is now."""
    instance.add_run_tags(run.run_id, {WILL_RETRY_TAG: "false", RETRY_OVERDUE_TAG: "true"})
    return instance.get_run_by_id(run.run_id) or run


def settled(
    instance: dg.DagsterInstance, run: dg.DagsterRun, wait: float = 5.0
) -> dg.DagsterRun | None:
    """The run, once it is a job's outcome; None while Dagster retries it or, after ``wait``
    seconds, has still not said whether it will. (Dagster records a failure first and tags
    ``dagster/will_retry`` just after, so a sensor can see a failed run without the tag.)"""
    deadline = time.monotonic() + wait
    while (
        run.status == dg.DagsterRunStatus.FAILURE
        and instance.run_retries_enabled
        and WILL_RETRY_TAG not in run.tags
    ):
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)
        run = instance.get_run_by_id(run.run_id) or run
    return None if will_retry(run) else run


def outcome(
    instance: dg.DagsterInstance, run: dg.DagsterRun, record: dg.RunRecord | None = None
) -> RunOutcome:
    """The state of a job's run. Facts and frame count come from the partition's latest
    materializations, so a retry that resumed after them still reports them. ``record``
    (for its start and end times) is read when not given."""
    status = run_status(run)
    selected = {key.to_user_string() for key in run.asset_selection or ()} or set(STEPS)
    made = (set(STEPS) - selected) | (materialized(instance, run.run_id) & selected)
    if record is None:
        record = instance.get_run_record_by_id(run.run_id)
    partition = run.tags.get("dagster/partition")
    completed = status == JobStatus.COMPLETED
    manifest = _latest_metadata(instance, "manifest", partition) if completed else {}
    frame_count = manifest.get("frame_count")
    done, expected = (frame_count, frame_count) if completed else frames_progress(run)
    return RunOutcome(
        run_id=run.run_id,
        status=status,
        progress=1.0 if completed else _share_done(made, done, expected),
        frame_count=frame_count,
        frames_done=done,
        frames_expected=expected,
        video={
            k: v
            for k, v in _latest_metadata(instance, "source_video", partition).items()
            if k != "source"
        },
        error=user_error(instance, run) if status == JobStatus.FAILED else None,
        rejected=status == JobStatus.FAILED and rejected(run),
        started_at=record.start_time if record else None,
        finished_at=record.end_time if record else None,
    )


def _share_done(made: set[str], done: int | None, expected: int | None) -> float:
    """The weighted share of the steps made, ``frames`` counted by its frames as they come."""
    weight = sum(WEIGHTS[step] for step in made)
    if "frames" not in made and done is not None and expected:
        weight += WEIGHTS["frames"] * min(1.0, done / expected)
    return weight / sum(WEIGHTS.values())


def frames_progress(run: dg.DagsterRun) -> tuple[int | None, int | None]:
    """Frames done and expected as the run last reported them (``PROGRESS_TAG``); (None,
    None) before its frames step reported any, expected None when it cannot be known."""
    found = _PROGRESS.match(run.tags.get(PROGRESS_TAG, ""))
    if found is None:
        return None, None
    done, expected = found.groups()
    return int(done), None if expected == "?" else int(expected)


class RunProgress:
    """Reports the frames done of ``run`` in its ``PROGRESS_TAG``, from a thread of its own
    every ``interval`` seconds when the count has changed, so the extraction never waits for
    a tag write (5-15 ms of Dagster's work each). Used as a context manager: the thread is
    stopped when the block ends, and the last count written if an earlier one was (an
    extraction shorter than the interval writes nothing), so nothing is written after the
    step and no count shown is left behind. A count copied from a run this one retries
    (Dagster copies its tags) is reset."""

    def __init__(
        self, instance: dg.DagsterInstance, run: dg.DagsterRun, interval: float | None = None
    ):
        self.instance, self.run = instance, run
        self.interval = PROGRESS_INTERVAL_SECONDS if interval is None else interval
        self._latest = self._written = run.tags.get(PROGRESS_TAG)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._every_interval, name="progress", daemon=True)

    def __enter__(self) -> RunProgress:
        if self._written is not None:
            self.report(0, None)
            self._write()
        self._thread.start()
        return self

    # a segment writes its last count however short it was (the run's total counts it)
    _last_count_always = False

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._written is not None or self._last_count_always:
            self._write()

    def report(self, done: int, expected: int | None) -> None:
        """``done`` frames of ``expected`` (None or 0: not known); written within the
        interval, or when the block ends."""
        self._latest = f"{done}/{expected or '?'}"

    def _every_interval(self) -> None:
        while not self._stop.wait(self.interval):
            self._write()

    def _write(self) -> None:
        count = self._latest
        if count is None or count == self._written:
            return
        try:
            self._publish(count)
        except Exception:  # progress is shown, not needed: the run goes on without it
            log.warning("run %s: progress %s not reported", self.run.run_id, count, exc_info=True)
            return
        self._written = count

    def _publish(self, count: str) -> None:
        self.instance.add_run_tags(self.run.run_id, {PROGRESS_TAG: count})


class SegmentProgress(RunProgress):
    """``RunProgress`` of one segment of a split extraction, run beside the others (other
    processes, other pods). Its own count goes to the instance's key-value store (one key per
    segment, ``segment_progress_key``: an upsert of its own row, where a run tag would be a
    read-modify-write of the whole run that concurrent segments undo), and the run's
    ``PROGRESS_TAG`` is the sum of every segment's last count, of ``expected`` frames in all
    when the plan knew them, else of those the segments announced once each has. The total
    may lag another segment's by one interval; the join writes the final one. The rows are
    deleted when the run ends (``segment_progress_prefix``)."""

    _last_count_always = True

    def __init__(
        self,
        instance: dg.DagsterInstance,
        run: dg.DagsterRun,
        segment: int,
        segments: int,
        expected: int | None,
        interval: float | None = None,
    ):
        super().__init__(instance, run, interval)
        self.segments, self.expected = segments, expected
        self._keys = [segment_progress_key(run.run_id, index) for index in range(segments)]
        self._own_key = self._keys[segment]
        self._latest = self._written = None  # a count copied from a retried run is not ours

    def _publish(self, count: str) -> None:
        storage = self.instance.run_storage
        storage.set_cursor_values({self._own_key: count})
        counts = storage.get_cursor_values(set(self._keys))
        self.instance.add_run_tags(self.run.run_id, {PROGRESS_TAG: self._total(counts)})

    def _total(self, counts: Mapping[str, str]) -> str:
        done, announced, known = 0, 0, 0
        for key in self._keys:
            found = _PROGRESS.match(counts.get(key, ""))
            if found is None:
                continue
            done += int(found.group(1))
            if found.group(2) != "?":
                announced += int(found.group(2))
                known += 1
        expected = self.expected or (announced if known == self.segments else None)
        return f"{done}/{max(expected, done) if expected else '?'}"


def segment_progress_key(run_id: str, segment: int) -> str:
    """The key of a segment's last count (``120/300``) in the instance's key-value store."""
    return f"{segment_progress_prefix(run_id)}{segment}"


def segment_progress_prefix(run_id: str) -> str:
    """What the keys of every segment's count of the run begin with: the rows the end of the
    run deletes (sensors/job_outcome.py)."""
    return f"{PROGRESS_TAG}/{run_id}/"


def _latest_metadata(
    instance: dg.DagsterInstance, asset: str, partition: str | None
) -> dict[str, Any]:
    if partition is None:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]),
        limit=1,
    ).records
    if not records or records[0].asset_materialization is None:
        return {}
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def rejected(run: dg.DagsterRun) -> bool:
    """Whether the run failed for good on its video (the engine refused it): the same video
    fails the same way again, so the job is not retried. A run whose automatic retry never
    came (``RETRY_OVERDUE_TAG``) failed by an outage, whatever it was tagged."""
    return REJECTED_TAG in run.tags and run.tags.get(RETRY_OVERDUE_TAG) != "true"


def rejection_reason(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | None:
    """Why the engine refused the run's video (``the video stream cannot be decoded (…)``),
    without the ``video rejected:`` the job's error starts with; None for a run not
    ``rejected``."""
    if not rejected(run):
        return None
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        data = entry.dagster_event.step_failure_data if entry.dagster_event else None
        failure = data.user_failure_data if data else None
        if failure is not None and "reason" in failure.metadata:
            return str(failure.metadata["reason"].value)
    return user_error(instance, run)


def user_error(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    """What to tell the user: a rejection's reason, never an internal error's details."""
    if run.tags.get(RETRY_OVERDUE_TAG) == "true":
        return RETRY_OVERDUE_ERROR
    failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    for entry in failures:
        event = entry.dagster_event
        if event is None:
            continue
        data = event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            return data.user_failure_data.description
        return (
            f"processing failed unexpectedly in step {event.step_key} (run {run.run_id}); "
            "retry the job, or contact support with this run id"
        )
    return f"the run failed (run {run.run_id})"


def failure_reason(event: dg.DagsterEvent) -> str:
    """What an operator should read: a Failure's description, else the innermost error."""
    data = event.step_failure_data
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else "the run failed"
