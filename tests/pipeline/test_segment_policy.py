"""Unit tests of how a run is split and run (frameforge_pipeline/segmenting.py): the executor
the job sensor asks for by the video's duration, the run's maximum runtime from its segments,
and the refusal of what cannot be split."""

from __future__ import annotations

import os
from collections.abc import Callable
from fractions import Fraction

import dagster as dg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from frameforge_core.models import VideoJob
from frameforge_pipeline import segmenting
from frameforge_pipeline.engine.errors import rejection
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.resources import AppDatabase
from frameforge_pipeline.segmenting import SegmentPolicy
from frameforge_pipeline.sensors.job_queue import run_request
from tests.pipeline.conftest import add_job

POLICY = SegmentPolicy(segment_seconds=300, max_step_pods=16)


@pytest.fixture
def job(database: AppDatabase) -> Callable[[float | None], VideoJob]:
    """A queued job of a video of the given duration (as the API read it from its header)."""

    def make(video_seconds: float | None) -> VideoJob:
        job_id, _ = add_job(database, f"vid-{video_seconds}", status="queued")
        with database.session() as session:
            found = session.scalars(select(VideoJob).where(VideoJob.id == job_id)).one()
            found.video_seconds = video_seconds
            session.commit()
            session.refresh(found)
            session.expunge(found)
            return found

    return make


@pytest.mark.parametrize("seconds", [None, 5.0, 300.0])
def test_a_short_or_unknown_video_runs_in_the_runs_own_process(
    seconds: float | None, instance: dg.DagsterInstance, job: Callable[..., VideoJob]
) -> None:
    request = run_request(instance, job(seconds))
    assert "execution" not in request.run_config  # the job's default: in process


def test_a_long_video_runs_its_segments_in_processes_up_to_the_cores(
    instance: dg.DagsterInstance, job: Callable[..., VideoJob]
) -> None:
    request = run_request(instance, job(2 * 3600))
    assert request.run_config["execution"] == {
        "config": {
            "multiprocess": {
                "max_concurrent": os.cpu_count(),
                "start_method": {"forkserver": {}},
            }
        }
    }


def test_where_runs_are_pods_a_long_video_runs_its_segments_as_pods() -> None:
    assert POLICY.execution(2 * 3600, on_kubernetes=True) == {
        "config": {"k8s": {"max_concurrent": 16, "enable_owner_references": True}}
    }
    assert POLICY.execution(60, on_kubernetes=True) == {"config": {"in_process": {}}}


def test_the_run_config_is_one_the_job_accepts(
    instance: dg.DagsterInstance, job: Callable[..., VideoJob]
) -> None:
    from frameforge_pipeline.definitions import defs

    extract_video = defs.resolve_job_def("extract_video")
    for seconds in (60, 2 * 3600):
        config = run_request(instance, job(seconds)).run_config
        assert extract_video.run_config_schema.config_type  # the schema exists
        assert dg.validate_run_config(extract_video, config)
    k8s = {**config, "execution": POLICY.execution(7200, on_kubernetes=True)}
    assert dg.validate_run_config(extract_video, k8s)


def test_the_maximum_runtime_shrinks_with_the_segments_at_once() -> None:
    day = Fraction(24 * 3600)
    one_piece = segmenting.max_runtime_seconds(day, segments=1, parallel=1)
    assert one_piece == 600 + 4 * 86400
    on_two_cores = segmenting.max_runtime_seconds(day, segments=288, parallel=2)
    assert on_two_cores == 600 + 4 * 86400 // 2 + 60 * 144
    on_16_pods = segmenting.max_runtime_seconds(day, segments=288, parallel=16)
    assert on_16_pods == 600 + 4 * 86400 // 16 + 60 * 18  # 6.5 h for a day of video


@given(
    seconds=st.fractions(min_value=0, max_value=48 * 3600),
    segments=st.integers(1, 500),
    parallel=st.integers(1, 64),
)
def test_splitting_never_allows_less_than_the_work_of_the_slowest_process(
    seconds: Fraction, segments: int, parallel: int
) -> None:
    """At least the decode of the video shared by the processes at once, never more than
    the one-piece allowance plus each wave's start-up."""
    allowed = segmenting.max_runtime_seconds(seconds, segments, parallel)
    ways = min(segments, parallel)
    assert allowed >= 600 + 4 * float(seconds) / ways - 1
    waves = -(-segments // ways) if segments > 1 else 0
    one_piece = segmenting.max_runtime_seconds(seconds, 1, 1)
    assert allowed <= one_piece + 60 * waves


@given(seconds=st.floats(min_value=0, max_value=48 * 3600, allow_nan=False))
def test_segments_cover_the_video_at_most_segment_seconds_each(seconds: float) -> None:
    count = POLICY.segment_count(seconds)
    assert count * POLICY.segment_seconds >= seconds
    assert count == 1 or (count - 1) * POLICY.segment_seconds < seconds


def test_a_long_video_that_cannot_be_split_is_refused_with_the_reason() -> None:
    segmenting.check_one_piece(Fraction(3 * 3600), "no keyframe after the first")  # at the cap
    with pytest.raises(segmenting.CannotSplitError) as refused:
        segmenting.check_one_piece(Fraction(5 * 3600), "no keyframe after the first")
    assert rejection(refused.value) == (
        "video rejected: the video is 5.0 h long and cannot be split into segments (no "
        "keyframe after the first); a video extracted in one piece may be at most 3 h"
    )


def test_a_run_refuses_a_video_too_long_for_one_piece_that_cannot_be_split(
    make_clip, run_video, instance, monkeypatch
):
    """A clip with one keyframe cannot be split at 1 s segments: past the one-piece cap
    (here 2 s), its run is rejected with the reason, tagged as a rejection, before any frame
    is made."""
    monkeypatch.setenv("FRAMEFORGE_SEGMENT_SECONDS", "1")
    monkeypatch.setattr(segmenting, "ONE_PIECE_MAX_SECONDS", 2)
    clip = make_clip("one-gop.mp4", seconds=5, gop=1000)
    result = run_video("vid-one-gop", clip.path)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failure.step_key == "frames.plan_frames"
    assert job_runs.failure_reason(failure) == (
        "video rejected: the video is 0.0 h long and cannot be split into segments (it has no "
        "keyframe to split it at); a video extracted in one piece may be at most 0 h"
    )
    run = instance.get_run_by_id(result.run_id)
    assert run.tags[job_runs.REJECTED_TAG] == "CannotSplitError"
    monkeypatch.setattr(segmenting, "ONE_PIECE_MAX_SECONDS", 3 * 3600)
    assert run_video("vid-one-gop-ok", clip.path).success  # within the cap: one piece
