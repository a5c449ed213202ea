"""The stream index: what one demux pass (no decoding) learns of a video stream.

Keyframe and frame presentation times (8 bytes a frame: 1.7 MB for an hour at 60 fps), the
edges of the timeline, and whether it jumps back. The selection policy asks it which frame a
target names and what decoding up to it costs; a keyframe-aligned segment of the video is a
pts range that starts at one of its ``keyframes``.
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av

from frameforge_pipeline.engine.probe import open_video

DEFAULT_TIME_BASE = Fraction(1, 90_000)  # for a stream that declares none (MPEG's clock)


@dataclass
class _Scan:
    """What the demux pass has seen so far (the index being built)."""

    keyframes: array[int] = field(default_factory=lambda: array("q"))
    frames: array[int] = field(default_factory=lambda: array("q"))
    first: int | None = None
    last: int | None = None
    last_dts: int | None = None
    discontinuous: bool = False
    untimed: bool = False

    def add(self, pts: int | None, dts: int | None, size: int, keyframe: bool) -> None:
        if pts is None:
            self.untimed = self.untimed or bool(size)  # not the final flush packet
            return
        self.frames.append(pts)
        if dts is not None:  # decode order never goes back on one timeline
            self.discontinuous = self.discontinuous or (
                self.last_dts is not None and dts < self.last_dts
            )
            self.last_dts = dts
        if not self.discontinuous:  # the origin is the first timeline's start
            self.first = pts if self.first is None else min(self.first, pts)
        self.last = pts if self.last is None else max(self.last, pts)
        if keyframe:
            self.keyframes.append(pts)


@dataclass(frozen=True)
class StreamIndex:
    """Keyframe, frame and edge presentation times of the video stream.

    ``discontinuous`` marks a timeline that jumps back (MPEG-TS files cut and joined, a
    recorder's clock reset): its timestamps cannot be used to seek or to know the end.
    ``frames`` tells which frame a target names before it is decoded and what decoding up to
    it costs; ``distinct_pts`` says that each packet is one frame with a time of its own (no
    untimed packet, no time twice), so the packet carrying a frame is known from its time.
    """

    keyframes: array[int]  # sorted pts of keyframes
    first_pts: int | None
    last_pts: int | None
    discontinuous: bool = False
    frames: array[int] = field(default_factory=lambda: array("q"))  # sorted pts of packets
    distinct_pts: bool = False
    time_base: Fraction = DEFAULT_TIME_BASE  # seconds a pts unit

    @classmethod
    def scan(cls, path: Path) -> StreamIndex:
        """Demux ``path`` once. A damaged tail ends the scan: what was read is the index.
        Raises what ``open_video`` raises."""
        seen = _Scan()
        with open_video(path) as (container, stream):
            time_base = stream.time_base or DEFAULT_TIME_BASE
            try:
                for packet in container.demux(stream):
                    if not packet.is_discard:
                        seen.add(packet.pts, packet.dts, packet.size, packet.is_keyframe)
            except av.FFmpegError:
                pass
        frames = array("q", sorted(seen.frames))
        distinct = not seen.untimed and all(a < b for a, b in itertools.pairwise(frames))
        keyframes = array("q", sorted(seen.keyframes))
        return cls(
            keyframes, seen.first, seen.last, seen.discontinuous, frames, distinct, time_base
        )

    def between(self, first: int, end: int | None) -> StreamIndex:
        """The index of the frames with ``first <= pts < end`` (None: to the last)."""

        def part(times: array[int]) -> array[int]:
            high = len(times) if end is None else bisect.bisect_left(times, end)
            return times[bisect.bisect_left(times, first) : high]

        frames = part(self.frames)
        first_pts, last_pts = (frames[0], frames[-1]) if frames else (None, None)
        return StreamIndex(
            part(self.keyframes), first_pts, last_pts, self.discontinuous, frames,
            self.distinct_pts, self.time_base,
        )  # fmt: skip

    def frame_before(self, pts: int) -> int | None:
        """The last frame before ``pts``, or None."""
        i = bisect.bisect_left(self.frames, pts)
        return self.frames[i - 1] if i else None

    def keyframe_at_or_before(self, pts: int) -> int | None:
        i = bisect.bisect_right(self.keyframes, pts)
        return self.keyframes[i - 1] if i else None

    def frame_at_or_after(self, pts: int) -> int | None:
        i = bisect.bisect_left(self.frames, pts)
        return self.frames[i] if i < len(self.frames) else None

    def frames_between(self, first: int | None, last: int) -> int:
        """How many frames have ``first <= pts <= last`` (None: from the beginning)."""
        low = 0 if first is None else bisect.bisect_left(self.frames, first)
        return max(0, bisect.bisect_right(self.frames, last) - low)
