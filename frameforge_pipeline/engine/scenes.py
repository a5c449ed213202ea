"""Cut detection for scene mode: PySceneDetect's ContentDetector and AdaptiveDetector.

Both score a frame as ContentDetector does: the mean absolute difference of hue, saturation
and value between it and the frame before (0-255), taken on the picture as PySceneDetect's
scene manager sees it: converted to BGR as OpenCV's capture converts it, then shrunk with
linear interpolation to 256 pixels on its longer side. ``ContentCuts`` cuts where the score
reaches a threshold, with PySceneDetect's flash filter in its default mode (MERGE): a cut is
at least ``min_scene_len`` frames after the start and after the cut before; cuts closer
together merge into the last of them, reported once the picture has stayed calm for as long.
``AdaptiveCuts`` cuts where a frame's score is ``adaptive_threshold`` times the mean score of
the ``window_width`` frames on each side (camera motion raises them all) and at least
``min_content_val``. Both name a cut up to a few frames after it is seen: ``held`` says
which frames seen so far may still be named. Frame distances are counted as PySceneDetect
counts them: the time between two frames times the nominal rate, rounded, so variable frame
rates agree too. Tests compare both, frame for frame, with scenedetect itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from frameforge_pipeline.engine.options import ExtractOptions

MIN_SHOT_FRAMES = 15  # PySceneDetect's min_scene_len
SCORE_SIDE = 256  # PySceneDetect's scene manager shrinks the picture to this longer side
ADAPTIVE_WINDOW = 2  # AdaptiveDetector's window_width
ADAPTIVE_MIN_CONTENT = 15.0  # AdaptiveDetector's min_content_val


def score_picture(frame: av.VideoFrame, reformatter: VideoReformatter) -> np.ndarray:
    """The HSV picture PySceneDetect scores: OpenCV's BGR conversion (swscale, bicubic, the
    frame's colorspace), then shrunk to SCORE_SIDE on the longer side, linearly.
    ``reformatter`` keeps its conversion context from one frame to the next."""
    converted = reformatter.reformat(frame, format="bgr24", interpolation="BICUBIC")
    bgr: np.ndarray = converted.to_ndarray()
    height, width = bgr.shape[:2]
    if max(width, height) > SCORE_SIDE:
        factor = max(width, height) / float(SCORE_SIDE)
        size = (max(1, round(width / factor)), max(1, round(height / factor)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)


class Scores:
    """ContentDetector's score of each picture against the one before (0.0 for the first)."""

    def __init__(self) -> None:
        self._previous: np.ndarray | None = None
        self._reformatter = VideoReformatter()

    def next(self, frame: av.VideoFrame) -> float:
        hsv = score_picture(frame, self._reformatter)
        previous, self._previous = self._previous, hsv
        if previous is None or previous.shape != hsv.shape:
            return 0.0
        pixels = float(hsv.shape[0] * hsv.shape[1])
        hue, saturation, value, _ = cv2.sumElems(cv2.absdiff(hsv, previous))
        return (hue / pixels + saturation / pixels + value / pixels) / 3.0


class _FrameDistance:
    """Frames between two times at the nominal ``rate``, rounded (PySceneDetect's count)."""

    def __init__(self, rate: Fraction):
        self._rate = float(rate)

    def __call__(self, earlier: Fraction, later: Fraction) -> int:
        return round(float(later - earlier) * self._rate)


class ContentCuts:
    """ContentDetector(threshold, min_scene_len) with FlashFilter.Mode.MERGE, fed every
    frame in order with its time (seconds); ``rate`` is the video's nominal frame rate."""

    def __init__(self, threshold: float, rate: Fraction, min_scene_len: int = MIN_SHOT_FRAMES):
        self._threshold = threshold
        self._length = min_scene_len
        self._apart = _FrameDistance(rate)
        self._last_above: Fraction | None = None  # the last frame at or over the threshold
        self._merge_enabled = False  # merging starts only after a first cut
        self._merge_start: Fraction | None = None  # not None: cuts are being merged

    def offer(self, when: Fraction, score: float) -> list[Fraction]:
        """The times of the frames that start a shot, found now (none or one), given the
        score (``Scores``) of the frame at ``when``."""
        above = score >= self._threshold
        if self._length <= 0:
            return [when] if above else []
        last_above = when if self._last_above is None else self._last_above
        long_enough = self._apart(last_above, when) >= self._length
        self._last_above = when if above else last_above
        if self._merge_start is not None:
            return self._end_of_merge(long_enough and not above)
        if not above:
            return []
        if long_enough:
            self._merge_enabled = True
            return [when]
        if self._merge_enabled:
            self._merge_start = when
        return []

    def _end_of_merge(self, calm_long_enough: bool) -> list[Fraction]:
        """The merged cut, once the picture stayed calm long enough after a long enough run."""
        start, last = self._merge_start, self._last_above
        if not calm_long_enough or start is None or last is None:
            return []
        if self._apart(start, last) < self._length:
            return []
        self._merge_start = None
        return [last]

    def held(self) -> list[Fraction]:
        """Times of frames seen that may still be named as a cut."""
        if self._merge_start is None or self._last_above is None:
            return []
        return [self._last_above]


class AdaptiveCuts:
    """AdaptiveDetector(adaptive_threshold, min_scene_len, window_width, min_content_val),
    fed every frame in order with its time; a cut is named ``window_width`` frames later."""

    def __init__(
        self,
        adaptive_threshold: float,
        rate: Fraction,
        min_scene_len: int = MIN_SHOT_FRAMES,
        window_width: int = ADAPTIVE_WINDOW,
        min_content_val: float = ADAPTIVE_MIN_CONTENT,
    ):
        if window_width < 1:
            raise ValueError("window_width must be at least 1")
        self._threshold = adaptive_threshold
        self._length = min_scene_len
        self._width = window_width
        self._min_content = min_content_val
        self._apart = _FrameDistance(rate)
        self._span = 2 * window_width + 1  # frames a score is compared across
        self._window: deque[tuple[Fraction, float]] = deque(maxlen=self._span)
        self._last_cut: Fraction | None = None

    def offer(self, when: Fraction, score: float) -> list[Fraction]:
        """The times of the frames that start a shot, found now (none or one), given the
        score (``Scores``) of the frame at ``when``."""
        self._window.append((when, score))
        last_cut = when if self._last_cut is None else self._last_cut
        self._last_cut = last_cut
        if len(self._window) < self._span:
            return []
        target, score = self._window[self._width]
        others = (s for i, (_, s) in enumerate(self._window) if i != self._width)
        average = sum(others) / (2.0 * self._width)
        if abs(average) < 0.00001:
            ratio = 255.0 if score >= self._min_content else 0.0
        else:
            ratio = min(score / average, 255.0)
        cut = ratio >= self._threshold and score >= self._min_content
        if cut and self._apart(last_cut, target) >= self._length:
            self._last_cut = target
            return [target]
        return []

    def held(self) -> list[Fraction]:
        """Times of frames seen that may still be named as a cut: those after the target."""
        full = len(self._window) == self._span
        return [when for when, _ in list(self._window)[self._width + full :]]


SceneCuts = ContentCuts | AdaptiveCuts


def scene_cuts(options: ExtractOptions, rate: Fraction) -> SceneCuts:
    """The cut detector ``options.scene_detector`` names, at ``options``' thresholds."""
    if options.scene_detector == "adaptive":
        return AdaptiveCuts(options.adaptive_threshold, rate)
    return ContentCuts(options.scene_threshold, rate)


def may_cut(options: ExtractOptions, score: float) -> bool:
    """Whether a frame of this score may start a shot, whatever the frames around it."""
    if options.scene_detector == "adaptive":
        return score >= ADAPTIVE_MIN_CONTENT
    return score >= options.scene_threshold


@dataclass
class ScoreLog:
    """The scores a segment saw (engine.segments), times as exact fractions in text:
    ``own``, its frames' in the window (None for its first frame when the frame before it is
    the segment before's); ``after``, the score of the first frame after it."""

    own: list[tuple[str, float | None]] = field(default_factory=list)
    after: list[tuple[str, float]] = field(default_factory=list)


def shot_starts(options: ExtractOptions, rate: Fraction, logs: Sequence[ScoreLog]) -> set[Fraction]:
    """The first frame of the window and every cut the detector finds in the segments'
    scores, in order: what the one-piece run chooses. A first frame's missing score is the
    one the segment before gave it."""
    cuts = scene_cuts(options, rate)
    chosen: set[Fraction] = set()
    given: dict[str, float] = {}
    for log in logs:
        for when, score in log.own:
            time = Fraction(when)
            if not chosen:
                chosen.add(time)
            chosen.update(cuts.offer(time, given.get(when, 0.0) if score is None else score))
        given = dict(log.after)
    return chosen
