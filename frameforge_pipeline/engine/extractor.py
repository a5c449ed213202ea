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
import copy
import hashlib
import itertools
import math
import os
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Protocol, cast

import av
from av.video.stream import VideoStream

from frameforge_pipeline.engine.limits import PictureLimits, decoded_bytes
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.picture_stats import PictureStats, hamming
from frameforge_pipeline.engine.probe import VideoFacts, open_video, probe
from frameforge_pipeline.engine.render import RenderPlan
from frameforge_pipeline.engine.sampling import IntervalSampler, expected_count
from frameforge_pipeline.engine.scenes import CutDetector

ENGINE_VERSION = "3"  # bump when the same input and options would give different frames

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
    keyframe: bool = False  # the chosen frame is a keyframe (False when not known)


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
    dropped_duplicates: int = 0  # frames not kept: within options.dedupe of the last kept


@dataclass(frozen=True)
class StreamIndex:
    """What one demux pass (no decoding) learns: keyframe, frame and edge presentation times.

    ``discontinuous`` marks a timeline that jumps back (MPEG-TS files cut and joined, a
    recorder's clock reset): its timestamps cannot be used to seek or to know the end.
    ``frames`` (8 bytes a frame: 1.7 MB for an hour at 60 fps) tells which frame a target
    names before it is decoded and what decoding up to it costs; ``distinct_pts`` says that
    each packet is one frame with a time of its own (no untimed packet, no time twice), so
    the packet carrying a frame is known from its time.
    """

    keyframes: array[int]  # sorted pts of keyframes
    first_pts: int | None
    last_pts: int | None
    discontinuous: bool = False
    frames: array[int] = field(default_factory=lambda: array("q"))  # sorted pts of packets
    distinct_pts: bool = False

    @classmethod
    def scan(cls, path: Path) -> StreamIndex:
        keyframes: array[int] = array("q")
        frames: array[int] = array("q")
        first = last = last_dts = None
        discontinuous = untimed = False
        with open_video(path) as (container, stream):
            try:
                for packet in container.demux(stream):
                    pts, dts = packet.pts, packet.dts
                    if packet.is_discard:
                        continue
                    if pts is None:
                        untimed = untimed or bool(packet.size)  # not the final flush packet
                        continue
                    frames.append(pts)
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
        frames = array("q", sorted(frames))
        distinct = not untimed and all(a < b for a, b in itertools.pairwise(frames))
        return cls(array("q", sorted(keyframes)), first, last, discontinuous, frames, distinct)

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


class _FrameReader:
    """Decodes frames in presentation order, skipping corrupt ones, and seeks on request.

    A seek whose first packet comes after the keyframe asked for (an unreliable container
    index) makes the reader reopen the file and decode from the start without seeking again,
    so a bad index costs time, never a wrong frame.

    Two economies, set by the caller before asking for the next frame, for the frames it
    will not take. ``skip_before``: a packet whose pts is below it is decoded with
    ``skip_frame = NONREF`` (H.264 only, where a non-reference picture, nal_ref_idc 0, is
    read by no other picture), so a frame that is neither wanted nor a reference is not
    decoded at all. ``drain_at``: once the packet with that pts is sent, no more packets go
    in; the decoder is drained, so the frames it holds (the one at ``drain_at`` among them)
    come out without decoding the packets after it (frame threads and B-frame reordering
    would otherwise have several in flight), and the caller must seek before asking for
    more. Should the drained frames not include what the caller wants, the reader decodes
    that stretch again without draining: slower, never a wrong frame.
    """

    economical = True  # False: neither economy (the tests' reference)

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
        self.skip_before: int | None = None
        self.drain_at: int | None = None
        self._skips = self.economical and self.stream.codec_context.name == "h264"
        self._drains = self.economical
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
        self._skipping = False  # skip_frame is NONREF
        self._drained = False
        self._stretch_from: int | None = None  # the keyframe decoding started at (None: 0)

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
            self._skip_if_unwanted(packet.pts)
            try:
                frames = packet.decode()
            except av.FFmpegError:
                self.corrupt += 1
                continue
            last = self.drain_at if self._drains and self.can_seek else None
            self._drained = last is not None and packet.pts == last
            if self._drained:
                try:
                    frames += self._flush_packet().decode()
                except av.FFmpegError:
                    self.corrupt += 1
            for frame in frames:
                self.decoded += 1
                if frame.is_corrupt:
                    self.corrupt += 1
                    continue
                late = last is not None and frame.pts is not None and frame.pts > last
                if self._drained and late:
                    return  # the frame at drain_at did not come out: next_frame decodes again
                # the size may change mid-stream (a new sequence header): probe saw the first
                self._limits.check(frame.width, frame.height, f"frame {self.decoded}")
                yield frame
                if self._drained and frame.pts == last:
                    return  # the caller seeks next
            if self._drained:
                return

    def _skip_if_unwanted(self, pts: int | None) -> None:
        """NONREF for a packet before ``skip_before``, DEFAULT otherwise (set on change)."""
        before = self.skip_before
        skipping = self._skips and pts is not None and before is not None and pts < before
        if skipping != self._skipping:
            self.stream.codec_context.skip_frame = "NONREF" if skipping else "DEFAULT"
            self._skipping = skipping

    def _flush_packet(self) -> av.Packet[VideoStream]:
        """An empty packet of the stream: sent to the decoder, it returns what it holds."""
        packet = cast("av.Packet[VideoStream]", av.Packet())
        packet.stream = self.stream
        packet.time_base = self.stream.time_base or self.time_base
        return packet

    def seek(self, keyframe_pts: int) -> None:
        self.container.seek(keyframe_pts, stream=self.stream, backward=True)
        self._frames = self._decode()
        self._seek_target = keyframe_pts
        self._drained = False
        self._stretch_from = keyframe_pts
        self.seeks += 1

    def next_frame(self) -> tuple[int, av.VideoFrame] | None:
        """The next frame in presentation order with its pts, or None at the end."""
        while (frame := next(self._frames, None)) is None and (self._landed_late or self._drained):
            if self._drained:  # asked for more than the drained decoder held: decode again
                self._drains = False
                if self._stretch_from is None:
                    self._open()
                else:
                    self.seek(self._stretch_from)
                continue
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


# A seek costs about as much as decoding this many frames: the decoder's threads start again
# from a single frame. Decoding on is kept unless a seek saves more.
SEEK_COST_FRAMES = 2


def _seek_for(index: StreamIndex, behind: int | None, threshold: int) -> int | None:
    """The keyframe to seek to for the first frame at or after ``threshold``, or None when
    decoding on from ``behind`` (pts of the last frame decoded; None: nothing yet) costs no
    more frames, by the index, than a seek and decoding from the keyframe."""
    keyframe = index.keyframe_at_or_before(threshold)
    if keyframe is None or (behind is not None and keyframe <= behind):
        return None
    wanted = index.frame_at_or_after(threshold)
    if wanted is None:
        return keyframe
    on = index.frames_between(None if behind is None else behind + 1, wanted)
    again = index.frames_between(keyframe, wanted)
    return keyframe if again + SEEK_COST_FRAMES < on else None


def _drain_point(
    index: StreamIndex, sampler: IntervalSampler, origin: int, time_base: Fraction, threshold: int
) -> int | None:
    """The pts of the frame ``threshold`` names when no frame after it is wanted on the way:
    the next target's frame will be reached by a seek, or there is no next target."""
    wanted = index.frame_at_or_after(threshold)
    if wanted is None or not index.distinct_pts:
        return None
    after = copy.copy(sampler)
    after.offer((wanted - origin) * time_base)
    if (target := after.next_target()) is None:
        return wanted
    following = origin + math.ceil(target / time_base)
    if index.last_pts is not None and following > index.last_pts:
        return wanted
    return wanted if _seek_for(index, wanted, following) is not None else None


def _interval_frames(
    reader: _FrameReader, index: StreamIndex, sampler: IntervalSampler, origin: int
) -> Iterator[tuple[Fraction, av.VideoFrame]]:
    """Frames chosen by the sampling rule. Each is decoded from where that costs fewer
    frames: on from the last one, or from the keyframe before it after a seek; non-reference
    frames before it are skipped, and the decoder is drained at it when the frames after it
    are not wanted (see _FrameReader)."""
    while (target := sampler.next_target()) is not None:
        threshold = origin + math.ceil(target / reader.time_base)
        if not index.discontinuous and index.last_pts is not None and threshold > index.last_pts:
            return
        keyframe = _seek_for(index, reader.position, threshold) if reader.can_seek else None
        if keyframe is not None:
            reader.seek(keyframe)
        reader.skip_before = threshold
        reader.drain_at = _drain_point(index, sampler, origin, reader.time_base, threshold)
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
    if options.mode == "scene":  # cuts are known only once decoded
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


def frame_name(index: int, extension: str, timestamp_ms: float | None = None) -> str:
    """``frame_000012.jpg``, or with the time ``frame_000012_00-00-12.000.jpg`` (hours,
    minutes, seconds: sorts like the index, and no character a file system refuses)."""
    if timestamp_ms is None:
        return f"frame_{index:06d}{extension}"
    hours, rest = divmod(round(timestamp_ms), 3_600_000)
    minutes, millis = divmod(rest, 60_000)
    return f"frame_{index:06d}_{hours:02d}-{minutes:02d}-{millis / 1000:06.3f}{extension}"


def _repeats(phash: int, last_kept: int | None, distance: int | None) -> bool:
    """True when dedupe is on and the picture is within its distance of the last kept."""
    return distance is not None and last_kept is not None and hamming(phash, last_kept) <= distance


def _scene_frames(
    reader: _FrameReader, index: StreamIndex, options: ExtractOptions, origin: int
) -> Iterator[tuple[Fraction, av.VideoFrame]]:
    """The first frame of the window and the first frame of every shot after it: every
    frame is decoded and scored against the one before (engine.scenes)."""
    start, end = options.start_fraction, options.end_fraction
    keyframe = index.keyframe_at_or_before(origin + math.floor(start / reader.time_base))
    if start and reader.can_seek and keyframe is not None and keyframe > origin:
        reader.seek(keyframe)
    detector, first = CutDetector(options.scene_threshold), True
    while (decoded := reader.next_frame()) is not None:
        pts, frame = decoded
        when = (pts - origin) * reader.time_base
        if end is not None and when >= end:
            return
        if when < start:
            continue
        if detector.is_cut(frame) or first:
            first = False
            yield when, frame


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
        elif options.mode == "scene":
            chosen = _scene_frames(reader, index, options, origin)
        else:
            sampler = IntervalSampler(
                options.fps_fraction, options.start_fraction, options.end_fraction
            )
            chosen = _interval_frames(reader, index, sampler, origin)

        last_kept: int | None = None  # pHash of the last frame kept, for dedupe
        dropped = 0

        def deliver(when: Fraction, keyframe: bool, encoded: tuple[bytes, PictureStats]) -> None:
            data, stats = encoded
            nonlocal last_kept, dropped
            if _repeats(stats.phash, last_kept, options.dedupe):
                dropped += 1
                return
            last_kept = stats.phash
            timestamp_ms = round(float(when * 1000), 3)
            record = FrameRecord(
                index=len(records),
                timestamp_ms=timestamp_ms,
                file=frame_name(
                    len(records), plan.extension, timestamp_ms if options.timestamp_names else None
                ),
                bytes=len(data),
                width=plan.width,
                height=plan.height,
                sha256=hashlib.sha256(data).hexdigest(),
                phash=f"{stats.phash:016x}",
                brightness=stats.brightness,
                sharpness=stats.sharpness,
                keyframe=keyframe,
            )
            sink.write(record, data)
            records.append(record)
            if on_progress:
                done = len(records) + dropped
                on_progress(Progress(done, max(expected, done)))

        in_flight: deque[tuple[Fraction, bool, Future[tuple[bytes, PictureStats]]]] = deque()
        with ThreadPoolExecutor(concurrency.workers, thread_name_prefix="encode") as pool:
            for when, frame in chosen:
                in_flight.append((when, frame.key_frame, pool.submit(plan.encode, frame)))
                if len(in_flight) > concurrency.in_flight:
                    done_when, keyframe, future = in_flight.popleft()
                    deliver(done_when, keyframe, future.result())
            while in_flight:
                done_when, keyframe, future = in_flight.popleft()
                deliver(done_when, keyframe, future.result())
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
        dropped_duplicates=dropped,
    )
