"""Stream frames out of a video: index, read, choose, render in a thread pool, hand to a sink.

``extract`` assembles the engine's blocks: the stream index (``stream_index``: one demux
pass), the segment it reads (``segment_plan``: the whole video here; engine.segments reads
parts), the reader (``reader``: demux, decode, drain), the selection policy and choosers
(``selection``), the clock (``clock``: pts <-> seconds), rendering (``render``) and the
ordered output (``output``). Only chosen frames are converted from YUV. Memory holds at most
a few frames in flight, whatever the length of the video, and fewer for big pictures: the
frames in flight, the encoding threads and the decoder's threads are sized so that their
pictures stay within a fixed budget of bytes.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from frameforge_pipeline.engine.limits import Limits, decoded_bytes
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.output import Encoded, FrameOutput, encoded_in_order
from frameforge_pipeline.engine.probe import VideoFacts, probe
from frameforge_pipeline.engine.reader import FrameReader
from frameforge_pipeline.engine.records import (
    ExtractionResult,
    FrameRecord,
    FrameSink,
    Progress,
    Work,
    frame_name,
)
from frameforge_pipeline.engine.render import RenderPlan
from frameforge_pipeline.engine.scenes import ScoreLog
from frameforge_pipeline.engine.segment_plan import Segment, whole
from frameforge_pipeline.engine.selection import choose
from frameforge_pipeline.engine.stream_index import StreamIndex

__all__ = [
    "ENGINE_VERSION",
    "Concurrency",
    "ExtractionResult",
    "FrameRecord",
    "FrameSink",
    "Progress",
    "extract",
    "frame_name",
]

ENGINE_VERSION = "5"  # bump when the same input and options would give different frames

# Bytes of pictures the frames in flight (decoded, converted, encoded) may take together,
# and the decoder's threads (each holds a picture of its own): with the process itself and
# the decoder's reference frames, a DCI 8K video stays well within a run pod's 2 GiB.
FRAMES_BUDGET_BYTES = 1024 * 1024 * 1024
DECODER_BUDGET_BYTES = 256 * 1024 * 1024
MAX_DECODER_THREADS = 16


@dataclass(frozen=True)
class Concurrency:
    """How many encoding threads, frames waiting or encoding (one more than ``in_flight``:
    the frame that makes the extractor wait for the oldest) and decoder threads a video gets.
    For ordinary sizes: 2 frames a worker and FFmpeg's own thread count, as it always was."""

    workers: int
    in_flight: int
    decoder_threads: int

    @classmethod
    def for_video(cls, facts: VideoFacts, plan: RenderPlan, workers: int) -> Concurrency:
        decoded = decoded_bytes(facts.pixel_format, facts.coded_width, facts.coded_height)
        # while encoding: the converted BGR picture, its rotated copy and the encoded image
        encoding = 3 * 3 * plan.scaled_width * plan.scaled_height
        in_flight = max(1, min(2 * workers, FRAMES_BUDGET_BYTES // (decoded + encoding) - 1))
        threads = DECODER_BUDGET_BYTES // decoded
        # small pictures: FFmpeg's own choice (0: cores + 1, at most 16)
        decoder_threads = 0 if threads >= MAX_DECODER_THREADS else max(1, threads)
        return cls(min(workers, in_flight), in_flight, decoder_threads)


@dataclass(frozen=True)
class ReadWork:
    """What reading a segment (or the whole video) cost and met, and the rate it found."""

    work: Work
    rate: Fraction  # the nominal frame rate (scene mode counts frames with it)


def extract_frames(
    path: Path,
    facts: VideoFacts,
    options: ExtractOptions,
    segment: Segment,
    deliver: Callable[[Fraction, bool, Encoded], None],
    workers: int | None = None,
    limits: Limits | None = None,
    log: ScoreLog | None = None,
    *,
    began: float,
) -> ReadWork:
    """Choose the frames of ``segment`` and hand each, encoded, to ``deliver`` in order:
    ``deliver(seconds, keyframe, (data, stats))``. Scene mode with a ``log``: candidates
    and every frame's score (selection.scene_candidates). The work's seconds are counted
    from ``began`` (``time.perf_counter()``: the caller's probe included)."""
    plan = RenderPlan.for_video(facts, options)
    concurrency = Concurrency.for_video(facts, plan, workers or min(4, os.cpu_count() or 2))
    reader = FrameReader(
        path,
        keyframes_only=options.mode == "keyframes",
        rejoin_timeline=segment.stream.discontinuous,
        limits=(limits or Limits()).picture,
        threads=concurrency.decoder_threads,
    )
    with contextlib.closing(reader):
        chosen = choose(reader, segment, options, log)
        for encoded in encoded_in_order(
            chosen, plan.encode, concurrency.workers, concurrency.in_flight
        ):
            deliver(*encoded)
    work = Work(
        expected_frames=segment.expected_frames,
        decoded_frames=reader.decoded,
        corrupt_frames=reader.corrupt,
        seeks=reader.seeks,
        truncated=reader.truncated or segment.ends_early,
        seconds=time.perf_counter() - began,
    )
    return ReadWork(work, reader.rate)


def check_limits(segment: Segment, options: ExtractOptions, limits: Limits) -> None:
    """Raise the ``limits``' errors the stream index shows before decoding, for the whole
    video (a ``whole`` segment, or the plan's segments' totals in engine.segments): its
    length (a header that lied) and the frames it would give."""
    stream = segment.stream
    if not stream.discontinuous and stream.last_pts is not None:
        limits.check_duration(segment.clock.seconds(stream.last_pts))
    limits.check_expected(segment.expected_frames, options.mode, options.fps_fraction)


def extract(
    path: Path,
    options: ExtractOptions,
    sink: FrameSink,
    on_progress: Callable[[Progress], None] | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
) -> ExtractionResult:
    """Extract frames of ``path`` into ``sink`` and return what was done: the video as one
    segment (engine.segments extracts it in several, with the same result).

    Raises the VideoError subclasses of ``probe`` for files that cannot be processed
    (PictureTooLargeError, VideoTooLongError beyond ``limits``, by default the engine's:
    Limits()), TooManyFramesError when the frames pass ``limits.max_frames`` (before
    decoding when they can be counted from the stream index, else at the limit),
    FileNotFoundError, and whatever the sink raises. A corrupt frame is skipped and counted.
    """
    began = time.perf_counter()
    limits = limits or Limits()
    facts = probe(path, limits)
    segment = whole(facts, StreamIndex.scan(path), options)
    plan = RenderPlan.for_video(facts, options)
    check_limits(segment, options, limits)
    output = FrameOutput(sink, plan, options, segment.expected_frames, limits, on_progress)
    read = extract_frames(
        path, facts, options, segment, output.deliver, workers, limits, began=began
    )
    return ExtractionResult(
        facts=facts,
        options=options,
        frames=output.records,
        work=read.work,
        dropped_duplicates=output.dropped,
    )
