"""The sampling rule, in exact arithmetic.

Targets are t_k = start + k / fps for k = 0, 1, 2, ... (and t_k < end when an end is set).
For each target the chosen frame is the first whose presentation time (seconds since the
first frame) is >= t_k. A target after the last frame has no frame. When several targets
choose the same frame (a gap in a variable-frame-rate video) the frame is emitted once, so
emitted times are strictly increasing.
"""

from __future__ import annotations

import math
from fractions import Fraction


class IntervalSampler:
    """Streams the rule: feed frame times in presentation order, it says which to keep."""

    def __init__(self, fps: Fraction, start: Fraction = Fraction(0), end: Fraction | None = None):
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.fps = fps
        self.start = start
        self.end = end
        self._k = 0

    def next_target(self) -> Fraction | None:
        """The next target time still waiting for a frame, or None when the window is done."""
        target = self.start + self._k / self.fps
        if self.end is not None and target >= self.end:
            return None
        return target

    def offer(self, time: Fraction) -> bool:
        """True when the frame at ``time`` is chosen; it then satisfies every target <= time."""
        target = self.next_target()
        if target is None or time < target:
            return False
        self._k = math.floor((time - self.start) * self.fps) + 1
        return True


def expected_count(
    fps: Fraction, last: Fraction, start: Fraction = Fraction(0), end: Fraction | None = None
) -> int:
    """How many targets lie at or before ``last`` (the last frame's time) inside the window.

    This is the frame count for a video without gaps longer than 1/fps.
    """
    if last < start:
        return 0
    k_last = math.floor((last - start) * fps)
    if end is not None:
        k_last = min(k_last, math.ceil((end - start) * fps) - 1)
    return max(k_last + 1, 0)
