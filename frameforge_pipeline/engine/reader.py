"""The frame reader: demux, decode and drain, as separate steps, in presentation order.

Corrupt frames are skipped and counted. A seek whose first packet comes after the keyframe
asked for (an unreliable container index) makes the reader reopen the file and decode from
the start without seeking again, so a bad index costs time, never a wrong frame.

Two economies, asked for with each ``next_frame`` call, for the frames the caller will not
take. ``skip_before``: a packet whose pts is below it is decoded with ``skip_frame = NONREF``
(H.264 only, where a non-reference picture, nal_ref_idc 0, is read by no other picture), so
a frame that is neither wanted nor a reference is not decoded at all. ``drain_at``: once the
packet with that pts is sent, no more packets go in; the decoder is drained, so the frames it
holds (the one at ``drain_at`` among them) come out without decoding the packets after it
(frame threads and B-frame reordering would otherwise have several in flight), and the caller
must seek before asking for more. Should the drained frames not include what the caller
wants, the reader decodes that stretch again without draining: slower, never a wrong frame.
"""

from __future__ import annotations

import contextlib
from collections import deque
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
from av.video.stream import VideoStream

from frameforge_pipeline.engine.limits import PictureLimits
from frameforge_pipeline.engine.probe import open_video
from frameforge_pipeline.engine.stream_index import DEFAULT_TIME_BASE


class FrameReader:
    """Frames of ``path``'s video stream with their pts, from the start or from a keyframe.

    ``keyframes_only``: packets that are not keyframes are not decoded. ``rejoin_timeline``:
    a timeline that jumps back is joined on (one nominal frame after the last frame), and the
    reader never seeks. ``threads``: decoder threads, 0 for FFmpeg's choice.
    """

    economical = True  # False: neither economy (the tests' reference)

    def __init__(
        self,
        path: Path,
        *,
        keyframes_only: bool = False,
        rejoin_timeline: bool = False,
        limits: PictureLimits | None = None,
        threads: int = 0,
    ):
        self._path = path
        self._keyframes_only = keyframes_only
        self._rejoin = rejoin_timeline
        self._limits = limits or PictureLimits()
        self._threads = threads
        self._offset = 0  # added to pts after a jump back, so time keeps going forward
        self._files = contextlib.ExitStack()
        self._open()
        self.time_base: Fraction = self.stream.time_base or DEFAULT_TIME_BASE
        # the nominal frame rate: for streams without timestamps, and scene mode's frame counts
        self.rate = Fraction(self.stream.average_rate or self.stream.guessed_rate or 25)
        self._nominal_step = max(1, round(1 / (self.rate * self.time_base)))
        self.can_seek = not rejoin_timeline  # joined timestamps cannot be seeked to
        self.position: int | None = None  # pts of the last frame returned
        self._skips = self.economical and self.stream.codec_context.name == "h264"
        self._drains = self.economical
        self.decoded = self.corrupt = self.seeks = 0
        self.truncated = False

    def _open(self) -> None:
        self._files.close()
        self.container, self.stream = self._files.enter_context(open_video(self._path))
        if self._threads:
            self.stream.codec_context.thread_count = self._threads
        self._start_decoding(seek_target=None, stretch_from=None)
        self._skipping = False  # skip_frame is NONREF

    def _start_decoding(self, seek_target: int | None, stretch_from: int | None) -> None:
        self._packets = self.container.demux(self.stream)
        self._ready: deque[av.VideoFrame] = deque()  # decoded, not yet returned
        self._drained_at: int | None = None  # the ready frames were drained at this pts
        self._ended = False  # no more packets: the end, a damaged tail, a drain or a late seek
        self._seek_target = seek_target
        self._landed_late = False
        self._stretch_from = stretch_from  # the keyframe decoding started at (None: 0)

    def close(self) -> None:
        self._files.close()

    def seek(self, keyframe_pts: int) -> None:
        """Decode on from the keyframe at ``keyframe_pts`` (a pts of the stream index)."""
        self.container.seek(keyframe_pts, stream=self.stream, backward=True)
        self._start_decoding(seek_target=keyframe_pts, stretch_from=keyframe_pts)
        self.seeks += 1

    def next_frame(
        self, skip_before: int | None = None, drain_at: int | None = None
    ) -> tuple[int, av.VideoFrame] | None:
        """The next frame in presentation order with its pts, or None at the end.

        ``skip_before`` and ``drain_at`` (pts) are the economies of the module docstring."""
        while (frame := self._next_decoded(skip_before, drain_at)) is None:
            if not self._restart():
                return None
        return self._timed(frame)

    def _next_decoded(self, skip_before: int | None, drain_at: int | None) -> av.VideoFrame | None:
        """The next frame to return, or None when the packets ran out (see _restart)."""
        frame = None
        while frame is None:
            while not self._ready:
                if self._ended:
                    return None
                packet = self._demux()
                if packet is None:
                    self._ended = True
                    return None
                self._ready.extend(self._decode(packet, skip_before, drain_at))
            frame = self._take(self._ready.popleft())
        return frame

    def _demux(self) -> av.Packet[VideoStream] | None:
        """The next packet to decode; None at the end, at a damaged tail (then the file is
        ``truncated``), or when a seek landed after its keyframe."""
        try:
            for packet in self._packets:
                if self._seek_target is not None and packet.pts is not None:
                    if packet.pts > self._seek_target:
                        self._landed_late = True
                        return None
                    self._seek_target = None
                if not (self._keyframes_only and packet.size and not packet.is_keyframe):
                    return packet
        except av.FFmpegError:
            self.truncated = True
        return None

    def _decode(
        self, packet: av.Packet[VideoStream], skip_before: int | None, drain_at: int | None
    ) -> list[av.VideoFrame]:
        """The frames sending ``packet`` gives, and those the decoder holds when it is the
        packet to drain at."""
        self._skip_if_unwanted(packet.pts, skip_before)
        try:
            frames = packet.decode()
        except av.FFmpegError:
            self.corrupt += 1
            return []
        if self._drains and self.can_seek and drain_at is not None and packet.pts == drain_at:
            self._ended, self._drained_at = True, drain_at
            frames += self._drain()
        elif self._keyframes_only and packet.size:
            # alone, each keyframe comes out at once and in order: fed keyframes only, an
            # open-GOP stream's missing frames make the decoder hold them and reverse them
            frames += self._drain()
            self.stream.codec_context.flush_buffers()
        return frames

    def _drain(self) -> list[av.VideoFrame]:
        """What the decoder holds: an empty packet of the stream makes it return it."""
        packet = cast("av.Packet[VideoStream]", av.Packet())
        packet.stream = self.stream
        packet.time_base = self.stream.time_base or self.time_base
        try:
            return packet.decode()
        except av.FFmpegError:
            self.corrupt += 1
            return []

    def _take(self, frame: av.VideoFrame) -> av.VideoFrame | None:
        """``frame`` if it is one to return; None for a corrupt frame or, after a drain, for
        one past the drain point (the frame there did not come out: decode again)."""
        self.decoded += 1
        if frame.is_corrupt:
            self.corrupt += 1
            return None
        last = self._drained_at
        if last is not None and frame.pts is not None and frame.pts > last:
            self._ready.clear()
            return None
        # the size may change mid-stream (a new sequence header): probe saw the first
        self._limits.check(frame.width, frame.height, f"frame {self.decoded}")
        if last is not None and frame.pts == last:
            self._ready.clear()  # the caller seeks next
        return frame

    def _skip_if_unwanted(self, pts: int | None, before: int | None) -> None:
        """NONREF for a packet before ``before``, DEFAULT otherwise (set on change)."""
        skipping = self._skips and pts is not None and before is not None and pts < before
        if skipping != self._skipping:
            self.stream.codec_context.skip_frame = "NONREF" if skipping else "DEFAULT"
            self._skipping = skipping

    def _restart(self) -> bool:
        """After the packets ran out: decode again where that is the remedy (a drain that
        missed its frame, a seek that landed late) and say so; False at the real end."""
        if self._drained_at is not None:  # asked for more than the drained decoder held
            self._drains = False
            if self._stretch_from is None:
                self._open()
            else:
                self.seek(self._stretch_from)
            return True
        if self._landed_late:
            self._open()
            self.can_seek = False
            self.position, self._offset = None, 0
            return True
        return False

    def _timed(self, frame: av.VideoFrame) -> tuple[int, av.VideoFrame]:
        """``frame`` with its pts on one timeline that never goes back."""
        previous = self.position
        if frame.pts is None:  # raw elementary streams carry no timestamps: step on
            self.position = 0 if previous is None else previous + self._nominal_step
        elif self._rejoin and previous is not None and frame.pts + self._offset <= previous:
            self._offset = previous + self._nominal_step - frame.pts  # a jump back: join on
            self.position = frame.pts + self._offset
        else:
            self.position = frame.pts + self._offset
        return self.position, frame
