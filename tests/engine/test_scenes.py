"""Scene mode on clips of distinct shots with known cuts and motion inside each shot."""

import functools

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frameforge_pipeline.engine import ExtractOptions, build_manifest, extract
from frameforge_pipeline.engine.scenes import MIN_SHOT_FRAMES, CutDetector
from tests.engine.clips import shot_frame, write_shots

FPS = 25
LENGTHS = [40, 23, 61, 30, 50, 17, 45]  # frames per shot: cuts at 40, 63, 124, 154, 204, 221


@pytest.fixture(scope="module", params=[2, 6], ids=["slow-pan", "fast-pan"])
def shots(request, tmp_path_factory):
    """(path, index of each shot's first frame): shots panning 2 or 6 pixels a frame with
    a square crossing them, so that every frame of a shot differs from the one before."""
    path = tmp_path_factory.mktemp("shots") / f"shots-{request.param}.mp4"
    return path, write_shots(path, LENGTHS, FPS, pan=request.param)


def test_every_cut_is_found_at_its_frame_and_none_is_invented(shots, collector):
    path, cuts = shots
    result = extract(path, ExtractOptions(mode="scene"), collector)
    assert [r.timestamp_ms for r in result.frames] == [c * 1000 / FPS for c in cuts]
    assert result.decoded_frames == sum(LENGTHS)  # every frame is looked at
    settings_used = build_manifest(result)["settings"]["scene"]
    assert settings_used["threshold"] == 27.0
    assert settings_used["min_shot_frames"] == MIN_SHOT_FRAMES


def test_agrees_with_pyscenedetect_content_detector(shots):
    """PySceneDetect's ContentDetector, at its defaults, finds the same shot starts."""
    from scenedetect import ContentDetector, detect

    path, cuts = shots
    found = [start.frame_num for start, _ in detect(str(path), ContentDetector())]
    ours = extract(path, ExtractOptions(mode="scene"), _Discard()).frames
    assert found == cuts == [round(r.timestamp_ms * FPS / 1000) for r in ours]


def test_the_window_starts_with_its_first_frame(shots, collector):
    path, _ = shots
    result = extract(path, ExtractOptions(mode="scene", start=2.0, end=6.0), collector)
    # frame 50 opens the window (inside the second shot); the cuts at 63 and 124 are in it
    assert [r.timestamp_ms for r in result.frames] == [2000, 2520, 4960]


def test_a_threshold_above_every_cut_keeps_only_the_first_frame(shots, collector):
    path, _ = shots
    result = extract(path, ExtractOptions(mode="scene", scene_threshold=120), collector)
    assert [r.timestamp_ms for r in result.frames] == [0]
    assert result.expected_frames == 0  # cuts are not known before decoding


@functools.cache
def _frame(shot: int, step: int) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(shot_frame(shot, step, pan=4), format="rgb24")


@settings(max_examples=25)
@given(lengths=st.lists(st.integers(MIN_SHOT_FRAMES, 40), min_size=1, max_size=5))
def test_the_detector_marks_exactly_the_first_frame_of_each_shot(lengths):
    detector = CutDetector(threshold=27)
    marked = [
        i
        for i, frame in enumerate(
            _frame(shot, step) for shot, n in enumerate(lengths) for step in range(n)
        )
        if detector.is_cut(frame)
    ]
    assert marked == list(np.cumsum(lengths)[:-1])


def test_a_flash_shorter_than_a_shot_is_one_cut_not_two():
    detector = CutDetector(threshold=27)
    frames = [_frame(0, s) for s in range(20)] + [_frame(1, 0)] * 3 + [_frame(0, 20)] * 20
    assert [i for i, f in enumerate(frames) if detector.is_cut(f)] == [20]


class _Discard:
    def write(self, record, data):
        pass


def test_scene_options_are_checked():
    with pytest.raises(ValueError, match="scene_threshold"):
        ExtractOptions(mode="scene", scene_threshold=0)
    camel = ExtractOptions.model_validate({"mode": "scene", "sceneThreshold": 30})
    assert camel.scene_threshold == 30
