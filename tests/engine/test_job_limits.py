"""A job's quotas, enforced by the engine itself (Limits): a video longer than allowed is
refused by the probe, from its header or, when the header declares no duration (a raw H.264
elementary stream), by reading its packets up to the limit; frames past the limit are
refused before decoding where the stream index counts them (interval and keyframe modes),
and the extraction stops at the limit where it cannot (scene mode, an untimed stream)."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frameforge_pipeline.engine.errors import TooManyFramesError, VideoTooLongError
from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.limits import Limits, clock_text
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.probe import probe
from tests.engine.scene_clips import write_hard_cuts

MINUTE = Limits(max_seconds=Fraction(60), max_frames=100)
ALL_INTRA = {"seconds": Fraction(48, 5), "fps": Fraction(25), "gop": 1}  # 240 keyframes
TWO_MINUTES = {"seconds": 120, "fps": Fraction(25), "size": (64, 48), "gop": 250}


@pytest.fixture
def raw_two_minutes(make_clip):
    """120 s at 25 fps (3,000 frames) as a raw H.264 stream: no container, no duration."""
    return make_clip("two-minutes.h264", **TWO_MINUTES).path


def test_a_stream_without_duration_is_measured_and_refused_at_the_limit(raw_two_minutes):
    assert probe(raw_two_minutes).duration is None  # nothing to read it from
    with pytest.raises(VideoTooLongError) as refused:
        probe(raw_two_minutes, MINUTE)
    assert str(refused.value) == "the video runs past 0:01:00, the longest a video may be"
    with pytest.raises(VideoTooLongError):
        extract(raw_two_minutes, ExtractOptions(), _Discard(), limits=MINUTE)


def test_a_stream_without_duration_within_the_limit_passes(raw_two_minutes):
    limits = Limits(max_seconds=Fraction(120))  # the last frame starts at 119.96 s
    assert probe(raw_two_minutes, limits).codec == "h264"


def test_the_same_content_with_a_header_is_refused_from_it(make_clip):
    clip = make_clip("two-minutes.mkv", **TWO_MINUTES)
    with pytest.raises(VideoTooLongError, match=r"^the video is 0:02:00 long; videos may be at"):
        probe(clip.path, MINUTE)


def test_an_untimed_stream_stops_at_the_frame_limit(make_clip):
    """10 s of raw H.264 at 25 fps: its frames cannot be counted before decoding."""
    clip = make_clip("ten-seconds.h264", seconds=10, fps=Fraction(25), size=(64, 48))
    sink = _Discard()
    with pytest.raises(TooManyFramesError) as refused:
        extract(clip.path, ExtractOptions(fps=25), sink, limits=MINUTE)
    assert str(refused.value) == (
        "the extraction passed 100 frames; a job may extract at most 100: lower fps, or set "
        "start and end"
    )
    assert sink.written == 100  # the frames up to the limit, none after


def test_every_keyframe_of_an_all_intra_clip_is_counted_before_decoding(make_clip):
    clip = make_clip("all-intra.mp4", **ALL_INTRA)
    sink = _Discard()
    with pytest.raises(TooManyFramesError) as refused:
        extract(clip.path, ExtractOptions(mode="keyframes"), sink, limits=MINUTE)
    assert str(refused.value) == (
        "the video has 240 keyframes in the window; a job may extract at most 100: use "
        "interval mode, or set start and end"
    )
    assert sink.written == 0
    window = ExtractOptions(mode="keyframes", start=0, end=4)  # 100 keyframes: allowed
    assert len(extract(clip.path, window, sink, limits=MINUTE).frames) == 100


def test_interval_mode_is_counted_before_decoding(make_clip):
    clip = make_clip("all-intra.mp4", **ALL_INTRA)
    with pytest.raises(TooManyFramesError, match=r"^these options would extract about 240 "):
        extract(clip.path, ExtractOptions(fps=25), _Discard(), limits=MINUTE)


def test_scene_mode_stops_at_the_frame_limit(tmp_path):
    path = tmp_path / "hard-cuts.mp4"
    write_hard_cuts(path)  # 8 shots
    sink = _Discard()
    with pytest.raises(TooManyFramesError) as refused:
        extract(path, ExtractOptions(mode="scene"), sink, limits=Limits(max_frames=5))
    assert str(refused.value) == (
        "scene mode found more than 5 shots; a job may extract at most 5: raise the scene "
        "threshold, or set start and end"
    )
    assert sink.written == 5
    assert (
        len(extract(path, ExtractOptions(mode="scene"), sink, limits=Limits(max_frames=8)).frames)
        == 8
    )


@given(st.integers(0, 10**6))
def test_a_duration_at_the_limit_passes_and_one_past_it_does_not(seconds):
    limits = Limits(max_seconds=Fraction(seconds))
    limits.check_duration(Fraction(seconds))
    limits.check_reached(Fraction(seconds))
    with pytest.raises(VideoTooLongError, match=clock_text(seconds)):
        limits.check_duration(Fraction(seconds) + Fraction(1, 1000))


class _Discard:
    def __init__(self) -> None:
        self.written = 0

    def write(self, record: object, data: bytes) -> None:
        self.written += 1
