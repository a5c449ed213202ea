"""Cut detection for scene mode: where one shot ends and the next begins.

The score of a frame is PySceneDetect's ContentDetector's: the mean absolute difference of
hue, saturation and value between it and the frame before, on a small copy of the picture
(0-255). A frame whose score reaches the threshold starts a new shot, unless the last cut
is fewer than ``MIN_SHOT_FRAMES`` frames back (a flash is one cut, not two: its end is
too close); the first frame is no cut, so a shot that ends soon after the start of a window
is found. Motion inside a shot moves a small part of the picture, so
its mean difference stays low; a cut changes every pixel at once.
"""

from __future__ import annotations

import av
import cv2
import numpy as np

MIN_SHOT_FRAMES = 15  # as PySceneDetect's min_scene_len
_SMALL_WIDTH = 128  # the score is taken on a copy this wide: cheap, and noise averages out


class CutDetector:
    """Fed every decoded frame in order; says which ones start a new shot."""

    def __init__(self, threshold: float, min_shot_frames: int = MIN_SHOT_FRAMES):
        self._threshold = threshold
        self._min_shot = min_shot_frames
        self._previous: np.ndarray | None = None
        # the first frame is no cut: a shot may end right after the start of a window
        self._since_cut = min_shot_frames

    def score(self, frame: av.VideoFrame) -> float | None:
        """The difference from the previous frame (0-255); None for the first frame."""
        height = max(1, round(_SMALL_WIDTH * frame.height / frame.width))
        small = frame.reformat(width=_SMALL_WIDTH, height=height, format="bgr24").to_ndarray()
        hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV).astype(np.int16)
        previous, self._previous = self._previous, hsv
        if previous is None or previous.shape != hsv.shape:
            return None
        return float(np.abs(hsv - previous).mean())

    def is_cut(self, frame: av.VideoFrame) -> bool:
        """True when ``frame`` starts a shot (never for the first frame: it starts the video)."""
        score = self.score(frame)
        self._since_cut += 1
        if score is None or score < self._threshold or self._since_cut < self._min_shot:
            return False
        self._since_cut = 0
        return True
