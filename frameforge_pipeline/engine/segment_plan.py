"""Keyframe-aligned segments of a video: what each one reads, and why a video stays whole.

A segment is a pts range of the stream index that starts at a keyframe and ends before the
next segment's keyframe; it owns the frames whose presentation time lies in that range (the
leading pictures of an open GOP, decoded after the next keyframe, included). It carries its
slice of the stream index, the clock and ``before``, the last frame ahead of it, so that it
is extracted without scanning the file again: the interval rule's targets it serves are
those whose frame (the first at or after the target) is one of its own, exactly the targets
after ``before`` up to its last frame. The one-piece extraction is the single segment
``whole`` makes: the same choosers read it.
"""

from __future__ import annotations

import bisect
import math
from array import array
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from frameforge_pipeline.engine.clock import Clock
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.probe import VideoFacts
from frameforge_pipeline.engine.sampling import expected_count
from frameforge_pipeline.engine.stream_index import StreamIndex

DEFAULT_SEGMENT_SECONDS = 300.0  # five minutes of video a segment


@dataclass(frozen=True)
class Segment:
    """One keyframe-aligned part of the video (picklable; ``to_json`` for JSON).

    ``stream``: the stream index's frames and keyframes of the segment; ``before``: the pts
    of the last frame before it (None for a segment that starts with the video: it does not
    seek); ``end_pts``: the next segment's keyframe (None: the last segment);
    ``expected_frames``: the frames it should give (0 when unknown beforehand);
    ``ends_early``: the video's frames stop well before its declared duration;
    ``whole_because``: why the video is extracted in one piece when it could not be split
    (None when it is split, or whole only because it is short)."""

    index: int
    count: int
    clock: Clock
    stream: StreamIndex
    before: int | None
    end_pts: int | None
    expected_frames: int
    ends_early: bool = False
    whole_because: str | None = None

    @property
    def start_seconds(self) -> float:
        """Where the segment starts, in seconds since the first frame."""
        first = self.stream.first_pts
        return 0.0 if first is None or self.before is None else float(self.clock.seconds(first))

    @property
    def end_seconds(self) -> float | None:
        """Where the next segment starts (None: the end of the video)."""
        return None if self.end_pts is None else float(self.clock.seconds(self.end_pts))

    def to_json(self) -> dict[str, Any]:
        stream = self.stream
        return {
            "index": self.index,
            "count": self.count,
            "clock": {"origin": self.clock.origin, "time_base": str(self.clock.time_base)},
            "stream": {
                "keyframes": stream.keyframes.tolist(),
                "frames": stream.frames.tolist(),
                "first_pts": stream.first_pts,
                "last_pts": stream.last_pts,
                "discontinuous": stream.discontinuous,
                "distinct_pts": stream.distinct_pts,
                "time_base": str(stream.time_base),
            },
            "before": self.before,
            "end_pts": self.end_pts,
            "expected_frames": self.expected_frames,
            "ends_early": self.ends_early,
            "whole_because": self.whole_because,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Segment:
        clock, stream = data["clock"], dict(data["stream"])
        stream["keyframes"] = array("q", stream["keyframes"])
        stream["frames"] = array("q", stream["frames"])
        stream["time_base"] = Fraction(stream["time_base"])
        return cls(
            **{k: v for k, v in data.items() if k not in ("clock", "stream")},
            clock=Clock(clock["origin"], Fraction(clock["time_base"])),
            stream=StreamIndex(**stream),
        )


def clock_of(facts: VideoFacts, index: StreamIndex) -> Clock:
    """Time zero: the first frame that decodes (packets before it may not, mid-GOP)."""
    origin = facts.start_pts if facts.start_pts is not None else index.first_pts or 0
    return Clock(origin, index.time_base)


def whole_because(index: StreamIndex, options: ExtractOptions) -> str | None:
    """Why this video cannot be split into segments with the same result, or None."""
    if index.discontinuous:
        return "its timeline jumps back (cut and joined, or a reset clock): no seeking in it"
    if index.last_pts is None or not index.distinct_pts:
        return "some of its frames have no time of their own: a segment's frames are unknown"
    if not index.keyframes:
        return "it marks no keyframe: a segment could not start anywhere"
    return None


def whole(facts: VideoFacts, index: StreamIndex, options: ExtractOptions) -> Segment:
    """The video as one segment: the one-piece extraction."""
    clock = clock_of(facts, index)
    expected = expected_frames(index, options, clock)
    return Segment(
        0, 1, clock, index, None, None, expected, ends_early(index, facts, clock),
        whole_because(index, options),
    )  # fmt: skip


def plan(
    facts: VideoFacts,
    index: StreamIndex,
    options: ExtractOptions,
    seconds_per_segment: float = DEFAULT_SEGMENT_SECONDS,
    max_segments: int | None = None,
) -> list[Segment]:
    """The segments of the options' window, each about ``seconds_per_segment`` long and at
    most ``max_segments``; one (``whole``) when the video cannot be split or is short."""
    one = whole(facts, index, options)
    if one.whole_because is not None or (max_segments is not None and max_segments <= 1):
        return [one]
    starts = _starts(index, options, one.clock, Fraction(seconds_per_segment), max_segments)
    if starts is None or len(starts) == 1:
        return [one]
    ends: list[int | None] = [*starts[1:], None]
    segments = []
    for number, (start, end) in enumerate(zip(starts, ends, strict=True)):
        stream = index.between(start, end)
        before = index.frame_before(start)
        expected = expected_frames(stream, options, one.clock, before)
        segments.append(
            Segment(number, len(starts), one.clock, stream, before, end, expected, one.ends_early)
        )
    return segments


def _starts(
    index: StreamIndex, options: ExtractOptions, clock: Clock, length: Fraction, most: int | None
) -> list[int] | None:
    """The pts each segment starts at: the frame the window's first frame needs decoding
    from (the video's first frame, or a keyframe), then keyframes about ``length`` apart
    up to the window's end; None when the window holds no frame."""
    wanted = index.frame_at_or_after(clock.pts_at_or_after(options.start_fraction))
    if wanted is None:
        return None
    begin = max(index.frames[0], index.keyframe_at_or_before(wanted) or index.frames[0])
    span = clock.seconds(_window_last(index, options, clock)) - clock.seconds(begin)
    count = max(1, math.ceil(span / length)) if span > 0 else 1
    count = count if most is None else min(count, most)
    starts = [begin]
    for part in range(1, count):
        keyframe = _nearest_keyframe(
            index, clock.pts_at_or_before(clock.seconds(begin) + span * part / count)
        )
        if keyframe > starts[-1]:
            starts.append(keyframe)
    return starts


def _nearest_keyframe(index: StreamIndex, pts: int) -> int:
    """The keyframe nearest ``pts`` (the earlier one of two as near)."""
    at = bisect.bisect_right(index.keyframes, pts)
    near = index.keyframes[max(0, at - 1) : at + 1]
    return min(near, key=lambda keyframe: abs(keyframe - pts))


def _window_last(index: StreamIndex, options: ExtractOptions, clock: Clock) -> int:
    """The pts of the last moment of the window that has frames."""
    last = index.last_pts if index.last_pts is not None else clock.origin
    if options.end_fraction is not None:
        last = min(last, clock.pts_at_or_after(options.end_fraction) - 1)
    return last


def expected_frames(
    index: StreamIndex, options: ExtractOptions, clock: Clock, before: int | None = None
) -> int:
    """Frames to expect from the frames of ``index`` (a whole video's or a segment's, whose
    rule targets come after ``before``), for progress; 0 when the timestamps cannot tell."""
    if index.last_pts is None or index.discontinuous:
        return 0
    if options.mode == "scene":  # cuts are known only once decoded
        return 0
    start, end = options.start_fraction, options.end_fraction
    if options.mode == "keyframes":
        return len(_keyframes_in(index, clock, start, end))
    fps = options.fps_fraction
    earlier = 0 if before is None else expected_count(fps, clock.seconds(before), start, end)
    return expected_count(fps, clock.seconds(index.last_pts), start, end) - earlier


def _keyframes_in(
    index: StreamIndex, clock: Clock, start: Fraction, end: Fraction | None
) -> list[int]:
    inside = []
    for keyframe in index.keyframes:
        when = clock.seconds(keyframe)
        if when >= start and (end is None or when < end):
            inside.append(keyframe)
    return inside


def ends_early(index: StreamIndex, facts: VideoFacts, clock: Clock) -> bool:
    """True when the frames stop well before the duration the container declares."""
    if facts.duration is None or index.last_pts is None:
        return False
    slack = max(Fraction(1), facts.duration / 50)
    return not index.discontinuous and clock.seconds(index.last_pts) + slack < facts.duration
