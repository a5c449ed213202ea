"""Exact sampling on clips shaped like real encodes: B-frames, keyframes off the targets.

The extractor skips non-reference frames before each target, drains the decoder at the
target and chooses per target between decoding on and seeking (engine.selection). Every
chosen frame must be the one the sampling rule names, pixel for pixel the frame a decoder
gives when it decodes every frame from the start, which is what the reference run does.
"""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frameforge_pipeline.engine import selection
from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.reader import FrameReader
from frameforge_pipeline.engine.records import ExtractionResult
from frameforge_pipeline.engine.stream_index import StreamIndex
from tests.conftest import Collector
from tests.engine.test_extract import expected_indices
from tests.sample_clips import times_from_gaps, write_x264_clip


def run(
    path: Path, options: ExtractOptions, economical: bool
) -> tuple[Collector, ExtractionResult]:
    """Extract with the economies, or as the reference: every frame decoded, no seek."""
    collector = Collector()
    with pytest.MonkeyPatch.context() as patch:
        if not economical:
            patch.setattr(FrameReader, "economical", False)
            patch.setattr(StreamIndex, "keyframe_at_or_before", lambda *_: None)
        result = extract(path, options, collector)
    return collector, result


def assert_same_frames(
    path: Path, times: list[Fraction], options: ExtractOptions
) -> ExtractionResult:
    """Both runs choose the frames the rule names, with the same pictures; returns the
    economical run's result."""
    fast, result = run(path, options, economical=True)
    plain, reference = run(path, options, economical=False)
    named = expected_indices(
        times, options.fps_fraction, options.start_fraction, options.end_fraction
    )
    assert fast.source_indices == plain.source_indices == named
    assert fast.times_ms == plain.times_ms == [round(float(times[i] * 1000), 3) for i in named]
    assert [r.sha256 for r in fast.records] == [r.sha256 for r in plain.records]
    assert reference.work.seeks == 0
    return result


def steady(seconds: float, fps: Fraction = Fraction(30)) -> list[Fraction]:
    return [i / fps for i in range(round(seconds * fps))]


def vfr(count: int, seed: int) -> list[Fraction]:
    gaps = np.random.default_rng(seed).integers(5, 120, size=count - 1)  # 5-120 ms
    return times_from_gaps(gaps)


CLIPS = {
    # name: (x264 parameters, frame times)
    "gop29.mp4": ("keyint=29:min-keyint=29:scenecut=0", steady(10)),
    # Matroska counts milliseconds: 25 fps keeps the frame times exact
    "gop29-bpyramid.mkv": (
        "keyint=29:bframes=3:b-pyramid=normal:b-adapt=0",
        steady(8, Fraction(25)),
    ),
    "open-gop.mp4": ("keyint=29:open-gop=1:bframes=3", steady(8)),
    "open-gop.ts": ("keyint=37:open-gop=1:bframes=2", steady(6)),
    "ntsc-gop31.mp4": ("keyint=31:bframes=3", steady(6, Fraction(30000, 1001))),
    "vfr-gop17.mp4": ("keyint=17:bframes=3", vfr(240, seed=5)),
    "vfr-open-gop.mkv": ("keyint=13:open-gop=1:bframes=3", vfr(200, seed=8)),
}


@pytest.mark.parametrize("name", sorted(CLIPS))
@pytest.mark.parametrize("fps", [Fraction(1), Fraction(3)])
def test_b_frames_and_keyframes_off_the_targets(tmp_path_factory, name, fps):
    x264, times = CLIPS[name]
    path = tmp_path_factory.getbasetemp() / f"short-gop-{name}"
    if not path.exists():
        write_x264_clip(path, times, x264)
    result = assert_same_frames(path, times, ExtractOptions(fps=float(fps)))
    assert result.work.seeks > 0  # the economies were at work, not just decoding through
    assert result.work.decoded_frames < len(times)


def test_non_reference_frames_are_not_decoded_on_a_long_gop(make_clip):
    clip = make_clip("long-gop.mp4", seconds=12, gop=250)  # write_clip: x264 with B-frames
    result = assert_same_frames(clip.path, clip.times, ExtractOptions())
    assert result.work.seeks <= 1
    assert result.work.decoded_frames < 0.9 * len(clip.times)


def test_a_window_inside_the_video(tmp_path):
    times = steady(10)
    path = tmp_path / "window.mp4"
    write_x264_clip(path, times, "keyint=23:open-gop=1")
    assert_same_frames(path, times, ExtractOptions(fps=2, start=1.3, end=7.1))


def test_a_drained_decoder_that_misses_the_frame_decodes_again(make_clip, monkeypatch):
    """Draining one frame early (as if the index named the wrong packet) costs a second
    decode of the stretch, not a wrong frame."""
    clip = make_clip("gop29.mp4", seconds=6, gop=29)
    real = selection.drain_point

    def one_frame_early(index, sampler, clock, threshold):
        wanted = real(index, sampler, clock, threshold)
        if wanted is None:
            return None
        i = list(index.frames).index(wanted)
        return index.frames[i - 1] if i else wanted

    monkeypatch.setattr(selection, "drain_point", one_frame_early)
    assert_same_frames(clip.path, clip.times, ExtractOptions())


@settings(max_examples=15)
@given(
    keyint=st.integers(2, 40),
    bframes=st.integers(0, 3),
    open_gop=st.booleans(),
    gaps_ms=st.lists(st.integers(10, 150), min_size=20, max_size=120),
    fps=st.sampled_from([Fraction(1), Fraction(2), Fraction(5), Fraction(30000, 1001)]),
    start_ms=st.integers(0, 1500),
)
def test_any_gop_structure_gives_the_frames_the_rule_names(
    keyint, bframes, open_gop, gaps_ms, fps, start_ms
):
    times = times_from_gaps(gaps_ms)
    x264 = f"keyint={keyint}:bframes={bframes}:open-gop={int(open_gop)}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        write_x264_clip(path, times, x264, size=(224, 96), preset="ultrafast")
        assert_same_frames(path, times, ExtractOptions(fps=float(fps), start=start_ms / 1000))
