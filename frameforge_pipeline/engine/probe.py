"""What a file is: container, codec, display size, rotation, rate, duration.

``probe`` decodes one frame, so a file it accepts is known to be decodable. It refuses
pictures beyond the Limits, from the size the stream declares before decoding anything
and again from the decoded frame, and ignores an absurd declared sample aspect ratio. It
refuses a video longer than the Limits allow: from the duration its header declares, before
decoding anything, or, when the header declares none (a raw elementary stream), by reading
its packets (no decoding) up to the limit.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.container import InputContainer
from av.video.reformatter import ColorTrc
from av.video.stream import VideoStream

from frameforge_pipeline.engine import container_names
from frameforge_pipeline.engine.errors import (
    EMPTY_FILE,
    CorruptVideoError,
    EmptyFileError,
    NotAVideoError,
    NoVideoStreamError,
)
from frameforge_pipeline.engine.limits import Limits, plausible_sample_aspect_ratio

# Packets tried before a stream that yields no frame is declared undecodable. Long enough to
# reach the first keyframe of a stream that starts mid-GOP.
_FIRST_FRAME_PACKET_BUDGET = 600

_STILL_IMAGE_FORMATS = {"image2", "webp_pipe", "png_pipe", "jpeg_pipe", "bmp_pipe", "tiff_pipe"}
# Text FFmpeg would draw as pictures (ANSI art), chosen by the file's extension: a user's
# notes.txt is not a video
_TEXT_FORMATS = {"tty", "bin", "xbin", "adf", "idf"}


@dataclasses.dataclass(frozen=True)
class VideoFacts:
    """Facts of the first video stream. Width and height are the upright display size."""

    container: str  # its short name (container_names): mp4, mov, webm, mkv, avi
    codec: str
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int  # degrees clockwise to turn the coded picture upright: 0, 90, 180 or 270
    sample_aspect_ratio: Fraction
    fps: Fraction | None  # average frame rate
    duration: Fraction | None  # seconds
    frame_count: int | None  # as the container declares it
    pixel_format: str
    has_audio: bool
    size_bytes: int
    # pts (stream time base) of the first frame that decodes whole: time zero of every time
    start_pts: int | None = dataclasses.field(default=None, compare=False)
    # the sample aspect ratio the file declares when it was out of range and ignored (the
    # picture is then shown with square pixels: sample_aspect_ratio is 1)
    ignored_sample_aspect_ratio: Fraction | None = None
    # transfer characteristic, FFmpeg's name ("bt709", "smpte2084" for PQ, "arib-std-b67"
    # for HLG); None when the file does not say
    color_trc: str | None = None
    # FFmpeg's demuxer, named after every format it reads ("mov,mp4,m4a,3gp,3g2,mj2"): what
    # ``container`` said before it was the short name
    demuxer: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types: rates and durations as numbers, the exact rate also as a string."""
        plain = dataclasses.asdict(self)
        del plain["start_pts"]
        plain["sample_aspect_ratio"] = str(self.sample_aspect_ratio)
        ignored = self.ignored_sample_aspect_ratio
        plain["ignored_sample_aspect_ratio"] = None if ignored is None else str(ignored)
        plain["fps"] = None if self.fps is None else round(float(self.fps), 6)
        plain["fps_exact"] = None if self.fps is None else str(self.fps)
        plain["duration"] = None if self.duration is None else round(float(self.duration), 6)
        return plain


HEAD_BYTES = 200  # enough to tell every container family below by its first bytes


def _sniff_container(head: bytes) -> str | None:
    """The container family the first bytes announce, or None when they announce none."""
    # complexity 12: one test per family's signature, read top to bottom like a table
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return "MP4/QuickTime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "Matroska/WebM"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "AVI"
    if head.startswith(b"FLV"):
        return "FLV"
    if head.startswith(b"OggS"):
        return "Ogg"
    if head.startswith(b"\x30\x26\xb2\x75"):
        return "ASF/WMV"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "MPEG-PS"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "MPEG-TS"
    return None


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(HEAD_BYTES)


@contextlib.contextmanager
def open_video(path: Path) -> Iterator[tuple[InputContainer, VideoStream]]:
    """Open ``path`` and pick its first real video stream (cover art does not count).

    Raises EmptyFileError, NotAVideoError, NoVideoStreamError or CorruptVideoError;
    FileNotFoundError when there is no such file.
    """
    with _open(str(path), path.stat().st_size, lambda: _head(path), av.FFmpegError) as opened:
        yield opened


@contextlib.contextmanager
def open_remote_video(
    url: str, size: int, head: Callable[[], bytes], timeout: float
) -> Iterator[tuple[InputContainer, VideoStream]]:
    """``open_video`` for a file behind a URL (a presigned S3 GET) of ``size`` bytes, whose
    first bytes ``head`` reads: the same refusals with the same reasons, from the header
    alone (FFmpeg reads only the parts it needs). A file FFmpeg cannot reach (refused,
    timed out, an HTTP error) is no verdict on it: that av.FFmpegError is raised as it is."""
    with _open(url, size, head, av.InvalidDataError, timeout) as opened:
        yield opened


@contextlib.contextmanager
def _open(
    location: str,
    size: int,
    head: Callable[[], bytes],
    unreadable: type[av.FFmpegError],
    timeout: float | None = None,
) -> Iterator[tuple[InputContainer, VideoStream]]:
    """What ``open_video`` and ``open_remote_video`` share: ``unreadable`` is the FFmpeg
    error that means the bytes are not a readable container."""
    # complexity 12: each way a file fails to be a video gets its own error and message
    if size == 0:
        raise EmptyFileError(EMPTY_FILE)
    try:
        container = av.open(location, metadata_errors="ignore", timeout=timeout)
    except unreadable as error:
        family = _sniff_container(head())
        if family is None:
            raise NotAVideoError("not a video file: no known media container was found") from None
        raise CorruptVideoError(
            f"the {family} container is damaged or truncated ({error.strerror})"
        ) from None
    with container:
        if container.format.name in _STILL_IMAGE_FORMATS:
            raise NotAVideoError(f"a still image ({container.format.name}), not a video")
        if container.format.name in _TEXT_FORMATS:
            raise NotAVideoError("not a video file: it holds text")
        streams = [
            s
            for s in container.streams.video
            if not s.disposition & av.stream.Disposition.attached_pic
        ]
        if not streams:
            audio = [s.codec_context.name for s in container.streams.audio]
            if audio:
                raise NoVideoStreamError(
                    f"no video stream: the file holds only audio ({', '.join(audio)})"
                )
            raise NotAVideoError("not a video file: the container holds no video stream")
        stream = streams[0]
        if stream.codec_context is None:
            raise CorruptVideoError("the video codec is not supported")
        stream.thread_type = "AUTO"
        yield container, stream


def rotation_clockwise(counter_clockwise: float) -> int:
    """FFmpeg's display-matrix angle (counter-clockwise) as 0/90/180/270 clockwise."""
    return round(-counter_clockwise / 90) % 4 * 90


def display_size(width: int, height: int, sar: Fraction) -> tuple[int, int]:
    """The coded size stretched by the sample aspect ratio (before rotation)."""
    return max(1, round(width * sar)), height


def probe(path: Path, limits: Limits | None = None) -> VideoFacts:
    """Probe ``path`` and decode its first frame.

    Raises EmptyFileError, NotAVideoError, NoVideoStreamError, CorruptVideoError,
    PictureTooLargeError or VideoTooLongError (with a one-line human reason) for files that
    cannot be processed; FileNotFoundError. ``limits`` defaults to the engine's (Limits()).
    """
    # complexity 11: each limit is checked where it is first known, before decoding if it can
    limits = limits or Limits()
    with open_video(path) as (container, stream):
        declared = stream.sample_aspect_ratio or Fraction(1)
        sar, ignored = (
            (Fraction(declared), None)
            if plausible_sample_aspect_ratio(declared)
            else (Fraction(1), Fraction(declared))
        )
        context = stream.codec_context
        if context.width > 0 and context.height > 0:  # before a decoder allocates for it
            limits.picture.check(*display_size(context.width, context.height, sar))
            limits.picture.check(context.width, context.height, "the coded picture")
        duration = declared_duration(container, stream)
        limits.check_duration(duration)  # before decoding anything (None: measured below)
        frame = _first_frame(container, stream)
        rotation = rotation_clockwise(frame.rotation)
        display_w, display_h = display_size(frame.width, frame.height, sar)
        limits.picture.check(display_w, display_h)
        limits.picture.check(frame.width, frame.height, "the coded picture")
        if rotation in (90, 270):
            display_w, display_h = display_h, display_w
        facts = VideoFacts(
            container=container_names.name_of(container, stream.codec_context.name),
            codec=stream.codec_context.name,
            width=display_w,
            height=display_h,
            coded_width=frame.width,
            coded_height=frame.height,
            rotation=rotation,
            sample_aspect_ratio=sar,
            fps=stream.average_rate or stream.guessed_rate,
            duration=duration,
            frame_count=stream.frames or None,
            pixel_format=frame.format.name,
            has_audio=bool(container.streams.audio),
            size_bytes=path.stat().st_size,
            start_pts=frame.pts,
            ignored_sample_aspect_ratio=ignored,
            color_trc=transfer_name(frame.color_trc or stream.codec_context.color_trc),
            demuxer=container.format.name,
        )
    if duration is None:  # a file that declares none is measured, up to the limit
        with open_video(path) as (container, stream):
            limits.check_packets(container, stream)
    return facts


def transfer_name(color_trc: int) -> str | None:
    """FFmpeg's name of a transfer characteristic (``ColorTrc.ARIB_STD_B67`` ->
    ``arib-std-b67``); None for unspecified or unknown values."""
    try:
        trc = ColorTrc(color_trc)
    except ValueError:
        return None
    return None if trc == ColorTrc.UNSPECIFIED else trc.name.lower().replace("_", "-")


def declared_duration(container: InputContainer, stream: VideoStream) -> Fraction | None:
    """The duration, in seconds, the container declares for ``stream`` (or for itself);
    None when it declares none. Reads only the header."""
    if stream.duration and stream.time_base:
        return stream.duration * stream.time_base
    if container.duration:
        return Fraction(container.duration, av.time_base)
    return None


def _first_frame(container: InputContainer, stream: VideoStream) -> av.VideoFrame:
    """The first frame that decodes whole: the first the extractor's reader hands out (it
    skips a frame the decoder flags corrupt, as the first picture of a damaged broadcast
    fragment is), so time zero is the first extracted frame's. Raises CorruptVideoError
    when none comes."""
    last_error = "no frame could be decoded"
    try:
        for n, packet in enumerate(container.demux(stream)):
            if n > _FIRST_FRAME_PACKET_BUDGET:
                break
            try:
                for frame in packet.decode():
                    if not frame.is_corrupt:
                        return frame
            except av.FFmpegError as error:
                last_error = error.strerror or str(error)
    except av.FFmpegError as error:
        last_error = error.strerror or str(error)
    raise CorruptVideoError(f"the video stream cannot be decoded ({last_error})")
