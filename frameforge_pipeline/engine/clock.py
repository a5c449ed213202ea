"""Time in a stream: presentation timestamps (pts, in the stream's time base) <-> seconds.

Every time the engine reports is seconds since the first frame, as an exact Fraction; every
time it seeks or compares in the stream is a pts. ``Clock`` is the one place that converts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Clock:
    """``origin``: the pts of time zero (the first frame); ``time_base``: seconds a pts unit."""

    origin: int
    time_base: Fraction

    def seconds(self, pts: int) -> Fraction:
        """The time of ``pts``, in seconds since the origin."""
        return (pts - self.origin) * self.time_base

    def pts_at_or_after(self, seconds: Fraction) -> int:
        """The smallest pts whose time is at or after ``seconds``."""
        return self.origin + math.ceil(seconds / self.time_base)

    def pts_at_or_before(self, seconds: Fraction) -> int:
        """The largest pts whose time is at or before ``seconds``."""
        return self.origin + math.floor(seconds / self.time_base)
