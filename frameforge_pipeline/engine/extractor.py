"""Stream frames out of a video: decode, choose, render in a thread pool, hand to a sink.

Only chosen frames are converted from YUV. In interval mode the extractor seeks to a
keyframe whenever one lies between the last decoded frame and the next target, so on short
GOPs it decodes little more than the frames it returns, and on long GOPs it decodes straight
through. Memory holds at most a few frames in flight, whatever the length of the video, and
fewer for big pictures: the frames in flight, the encoding threads and the decoder's threads
are sized so that their pictures stay within a fixed budget of bytes.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import math
import os
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av

from frameforge_pipeline.engine.limits import PictureLimits, decoded_bytes
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.picture_stats import PictureStats
from frameforge_pipeline.engine.probe import VideoFacts, open_video, probe
from frameforge_pipeline.engine.render import RenderPlan
from frameforge_pipeline.engine.sampling import IntervalSampler, expected_count

ENGINE_VERSION = "2"  # bump when the same input and options would give different frames

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


class FrameSink(Protocol):
    """Receives encoded frames in order. Implementations write them somewhere."""

    def write(self, record: FrameRecord, data: bytes) -> None: ...


@dataclass(frozen=True)
class Progress:
    done: int
    expected: int


@dataclass(frozen=True)
class ExtractionResult:
    facts: VideoFacts
    options: ExtractOptions
    frames: list[FrameRecord]
    expected_frames: int
    decoded_frames: int
    corrupt_frames: int
    seeks: int
    truncated: bool
    seconds: float


@dataclass(frozen=True)
class StreamIndex:
    """What one demux pass (no decoding) learns: keyframe and edge presentation timestamps.

    ``discontinuous`` marks a timeline that jumps back (MPEG-TS files cut and joined, a
    recorder's clock reset): its timestamps cannot be used to seek or to know the end.
    """

    keyframes: array[int]  # sorted pts of keyframes
    first_pts: int | None
    last_pts: int | None
    discontinuous: bool = False

    @classmethod
    def scan(cls, path: Path) -> StreamIndex:
        keyframes: array[int] = array("q")
        first = last = last_dts = None
        discontinuous = False
        with open_video(path) as (container, stream):
            try:
                for packet in container.demux(stream):
                    pts, dts = packet.pts, packet.dts
                    if pts is None or packet.is_discard:
                        continue
                    if dts is not None:  # decode order never goes back on one timeline
                        discontinuous = discontinuous or (last_dts is not None and dts < last_dts)
                        last_dts = dts
                    if not discontinuous:  # the origin is the first timeline's start
                        first = pts if first is None else min(first, pts)
                    last = pts if last is None else max(last, pts)
                    if packet.is_keyframe:
                        keyframes.append(pts)
            except av.FFmpegError:
                pass  # a damaged tail: what was read so far is the index
        return cls(array("q", sorted(keyframes)), first, last, discontinuous)

    def keyframe_at_or_before(self, pts: int) -> int | None:
        i = bisect.bisect_right(self.keyframes, pts)
        return self.keyframes[i - 1] if i else None


class _FrameReader:
    """Decodes frames in presentation order, skipping corrupt ones, and seeks on request.

    A seek whose first packet comes after the keyframe asked for (an unreliable container
    index) makes the reader reopen the file and decode from the start without seeking again,
    so a bad index costs time, never a wrong frame.
    """

    def __init__(
        self,
        path: Path,
        keyframes_only: bool = False,
        rejoin_timeline: bool = False,
        limits: PictureLimits | None = None,
        threads: int = 0,
    ):
        self._path = path
        self._keyframes_only = keyframes_only
        self._rejoin = rejoin_timeline
        self._limits = limits or PictureLimits()
        self._threads = threads  # 0: FFmpeg's choice
        self._offset = 0  # added to pts after a jump back, so time keeps going forward
        self._files = contextlib.ExitStack()
        self._open()
        self.time_base: Fraction = self.stream.time_base or Fraction(1, 90_000)
        rate = self.stream.average_rate or self.stream.guessed_rate or Fraction(25)
        self._nominal_step = max(1, round(1 / (rate * self.time_base)))
        self.can_seek = not rejoin_timeline  # joined timestamps cannot be seeked to
        self.position: int | None = None  # pts of the last frame returned
        self.decoded = self.corrupt = self.seeks = 0
        self.truncated = False

    def _open(self) -> None:
        self._files.close()
        self.container, self.stream = self._files.enter_context(open_video(self._path))
        if self._threads:
            self.stream.codec_context.thread_count = self._threads
        self._frames = self._decode()
        self._seek_target: int | None = None
        self._landed_late = False

    def close(self) -> None:
        self._files.close()

    def _decode(self) -> Iterator[av.VideoFrame]:
        packets = self.container.demux(self.stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.FFmpegError:
                self.truncated = True
                return
            if self._seek_target is not None and packet.pts is not None:
                if packet.pts > self._seek_target:
                    self._landed_late = True
                    return
                self._seek_target = None
            if self._keyframes_only and packet.size and not packet.is_keyframe:
                continue
            try:
                frames = packet.decode()
            except av.FFmpegError:
                self.corrupt += 1
                continue
            for frame in frames:
                self.decoded += 1
                if frame.is_corrupt:
                    self.corrupt += 1
                    continue
                # the size may change mid-stream (a new sequence header): probe saw the first
                self._limits.check(frame.width, frame.height, f"frame {self.decoded}")
                yield frame

    def seek(self, keyframe_pts: int) -> None:
        self.container.seek(keyframe_pts, stream=self.stream, backward=True)
        self._frames = self._decode()
        self._seek_target = keyframe_pts
        self.seeks += 1

    def next_frame(self) -> tuple[int, av.VideoFrame] | None:
        """The next frame in presentation order with its pts, or None at the end."""
        while (frame := next(self._frames, None)) is None and self._landed_late:
            self._open()
            self.can_seek = False
            self.position, self._offset = None, 0
        if frame is None:
            return None
        previous = self.position
        if frame.pts is None:  # raw elementary streams carry no timestamps: step on
            self.position = 0 if previous is None else previous + self._nominal_step
        elif self._rejoin and previous is not None and frame.pts + self._offset <= previous:
            self._offset = previous + self._nominal_step - frame.pts  # a jump back: join on
            self.position = frame.pts + self._offset
        else:
            self.position = frame.pts + self._offset
        return self.position, frame


def _interval_frames(
    reader: _FrameReader, index: StreamIndex, sampler: IntervalSampler, origin: int
) -> Iterator[tuple[Fraction, av.VideoFrame]]:
    """Frames chosen by the sampling rule, seeking ahead when a keyframe allows it."""
    while (target := sampler.next_target()) is not None:
        threshold = origin + math.ceil(target / reader.time_base)
        if not index.discontinuous and index.last_pts is not None and threshold > index.last_pts:
            return
        keyframe = index.keyframe_at_or_before(threshold)
        behind = reader.position if reader.position is not None else origin
        if reader.can_seek and keyframe is not None and keyframe > behind:
            reader.seek(keyframe)
        while (decoded := reader.next_frame()) is not None and decoded[0] < threshold:
            pass
        if decoded is None:
            return
        pts, frame = decoded
        when = (pts - origin) * reader.time_base
        if sampler.end is not None and when >= sampler.end:
            return  # the frame for the last target lies past the window
        sampler.offer(when)
        yield when, frame


def _keyframes(
    reader: _FrameReader, options: ExtractOptions, origin: int
) -> Iterator[tuple[Fraction, av.VideoFrame]]:
    """Every keyframe inside the window."""
    start, end = options.start_fraction, options.end_fraction
    while (decoded := reader.next_frame()) is not None:
        pts, frame = decoded
        when = (pts - origin) * reader.time_base
        if end is not None and when >= end:
            return
        if when >= start:
            yield when, frame


def _expected(index: StreamIndex, options: ExtractOptions, origin: int, time_base: Fraction) -> int:
    """Frames to expect, for progress; 0 when the timestamps cannot tell."""
    if index.last_pts is None or index.discontinuous:
        return 0
    start, end = options.start_fraction, options.end_fraction
    if options.mode == "keyframes":
        times = ((k - origin) * time_base for k in index.keyframes)
        return sum(1 for t in times if t >= start and (end is None or t < end))
    last = (index.last_pts - origin) * time_base
    return expected_count(options.fps_fraction, last, start, end)


def _ends_early(index: StreamIndex, facts: VideoFacts, origin: int, time_base: Fraction) -> bool:
    """True when the frames stop well before the duration the container declares."""
    if facts.duration is None or index.last_pts is None:
        return False
    last = (index.last_pts - origin) * time_base
    slack = max(Fraction(1), facts.duration / 50)
    return not index.discontinuous and last + slack < facts.duration


def frame_name(index: int, extension: str) -> str:
    return f"frame_{index:06d}{extension}"


def extract(
    path: Path,
    options: ExtractOptions,
    sink: FrameSink,
    on_progress: Callable[[Progress], None] | None = None,
    workers: int | None = None,
    limits: PictureLimits | None = None,
) -> ExtractionResult:
    """Extract frames of ``path`` into ``sink`` and return what was done.

    Raises the VideoError subclasses of ``probe`` for files that cannot be processed
    (PictureTooLargeError beyond ``limits``, by default PictureLimits.from_environment()),
    FileNotFoundError, and whatever the sink raises. A corrupt frame is skipped and counted.
    """
    began = time.perf_counter()
    limits = limits or PictureLimits.from_environment()
    facts = probe(path, limits)
    plan = RenderPlan.for_video(facts, options)
    index = StreamIndex.scan(path)
    concurrency = Concurrency.for_video(facts, plan, workers or min(4, os.cpu_count() or 2))
    records: list[FrameRecord] = []

    reader = _FrameReader(
        path,
        keyframes_only=options.mode == "keyframes",
        rejoin_timeline=index.discontinuous,
        limits=limits,
        threads=concurrency.decoder_threads,
    )
    try:
        # time zero: the first frame that decodes (packets before it may not, mid-GOP)
        origin = facts.start_pts if facts.start_pts is not None else index.first_pts or 0
        expected = _expected(index, options, origin, reader.time_base)
        if options.mode == "keyframes":
            chosen = _keyframes(reader, options, origin)
        else:
            sampler = IntervalSampler(
                options.fps_fraction, options.start_fraction, options.end_fraction
            )
            chosen = _interval_frames(reader, index, sampler, origin)

        def deliver(when: Fraction, encoded: tuple[bytes, PictureStats]) -> None:
            data, stats = encoded
            record = FrameRecord(
                index=len(records),
                timestamp_ms=round(float(when * 1000), 3),
                file=frame_name(len(records), plan.extension),
                bytes=len(data),
                width=plan.width,
                height=plan.height,
                sha256=hashlib.sha256(data).hexdigest(),
                phash=f"{stats.phash:016x}",
                brightness=stats.brightness,
                sharpness=stats.sharpness,
            )
            sink.write(record, data)
            records.append(record)
            if on_progress:
                on_progress(Progress(len(records), max(expected, len(records))))

        in_flight: deque[tuple[Fraction, Future[tuple[bytes, PictureStats]]]] = deque()
        with ThreadPoolExecutor(concurrency.workers, thread_name_prefix="encode") as pool:
            for when, frame in chosen:
                in_flight.append((when, pool.submit(plan.encode, frame)))
                if len(in_flight) > concurrency.in_flight:
                    done_when, future = in_flight.popleft()
                    deliver(done_when, future.result())
            while in_flight:
                done_when, future = in_flight.popleft()
                deliver(done_when, future.result())
    finally:
        reader.close()

    return ExtractionResult(
        facts=facts,
        options=options,
        frames=records,
        expected_frames=expected,
        decoded_frames=reader.decoded,
        corrupt_frames=reader.corrupt,
        seeks=reader.seeks,
        truncated=reader.truncated or _ends_early(index, facts, origin, reader.time_base),
        seconds=time.perf_counter() - began,
    )
