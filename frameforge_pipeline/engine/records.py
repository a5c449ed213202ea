"""What an extraction hands out: one record per image, progress, and the result with the
work it took."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.probe import VideoFacts


@dataclass(frozen=True)
class FrameRecord:
    """One extracted image, as the manifest lists it."""

    index: int
    timestamp_ms: float  # presentation time since the first frame, microsecond precision
    file: str
    bytes: int
    width: int
    height: int
    sha256: str
    phash: str  # 64-bit perceptual hash, 16 hex digits (picture_stats)
    brightness: float  # mean luma, 0 black to 1 white
    sharpness: float  # variance of the Laplacian
    keyframe: bool = False  # the chosen frame is a keyframe (False when not known)


class FrameSink(Protocol):
    """Receives encoded frames in order. Implementations write them somewhere."""

    def write(self, record: FrameRecord, data: bytes) -> None: ...


@dataclass(frozen=True)
class Progress:
    done: int
    expected: int


@dataclass(frozen=True)
class Work:
    """What an extraction, or one segment of it, cost and met: the frames the plan expected,
    those decoded and those skipped as corrupt, the seeks, whether the video ended early,
    and the seconds it took. A split extraction's is its segments' ``summed``."""

    expected_frames: int
    decoded_frames: int
    corrupt_frames: int
    seeks: int
    truncated: bool
    seconds: float

    @classmethod
    def summed(cls, parts: Iterable[Work], seconds: float = 0.0) -> Work:
        """The ``parts``' counts added up (truncated when one was), plus ``seconds`` more."""
        totals = cls(0, 0, 0, 0, False, seconds)
        for part in parts:
            totals = cls(
                totals.expected_frames + part.expected_frames,
                totals.decoded_frames + part.decoded_frames,
                totals.corrupt_frames + part.corrupt_frames,
                totals.seeks + part.seeks,
                totals.truncated or part.truncated,
                totals.seconds + part.seconds,
            )
        return totals


@dataclass(frozen=True)
class ExtractionResult:
    facts: VideoFacts
    options: ExtractOptions
    frames: list[FrameRecord]
    work: Work
    dropped_duplicates: int = 0  # frames not kept: within options.dedupe of the last kept


def frame_name(index: int, extension: str, timestamp_ms: float | None = None) -> str:
    """``frame_000012.jpg``, or with the time ``frame_000012_00-00-12.000.jpg`` (hours,
    minutes, seconds: sorts like the index, and no character a file system refuses)."""
    if timestamp_ms is None:
        return f"frame_{index:06d}{extension}"
    hours, rest = divmod(round(timestamp_ms), 3_600_000)
    minutes, millis = divmod(rest, 60_000)
    return f"frame_{index:06d}_{hours:02d}-{minutes:02d}-{millis / 1000:06.3f}{extension}"
