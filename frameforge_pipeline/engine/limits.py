"""What a run of the engine is held to (``Limits``): how large a picture it accepts, how long
a video and how many frames a job may have; and how much of a picture may be in memory.

The engine reads no environment: whoever starts it builds ``Limits`` from its own settings
and hands them down (the code location's ``limits`` resource, the CLI). Without them the
engine takes the picture defaults below and no quota.

A run's pod has 2 GiB. A decoded 8-bit 4:2:0 picture takes 1.5 bytes a pixel, its BGR copy
3, and its encoded image up to as much again, so an unbounded picture (a stream that claims
16000x16000, a pixel aspect ratio of 2279:1 stretching 320 pixels to 729,280) exhausts the
pod before the first frame is written. ``probe`` refuses pictures beyond these limits with
a PictureTooLargeError, and the extractor sizes its frames in flight by their bytes.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import TYPE_CHECKING

from frameforge_pipeline.engine.errors import (
    PictureTooLargeError,
    TooManyFramesError,
    VideoTooLongError,
)

if TYPE_CHECKING:  # the API reads the limits without loading PyAV; the engine's calls import it
    from av.container import InputContainer
    from av.video.stream import VideoStream

# DCI 8K: every 8K format (UHD 7680x4320, DCI 8192x4320, 8192x4096 360-degree video) fits.
DEFAULT_MAX_SIDE = 8192
DEFAULT_MAX_PIXELS = 8192 * 4320
# Real anamorphic video stays within 2:1 (a 2x lens; HDV's 4:3); beyond 4:1 a declared
# sample aspect ratio is a broken or hostile header, and the picture is shown as coded.
MAX_SAMPLE_ASPECT_RATIO = Fraction(4)


@dataclasses.dataclass(frozen=True)
class PictureLimits:
    """The largest picture accepted, coded or displayed: ``max_side`` pixels on its longer
    side and ``max_pixels`` in all."""

    max_side: int = DEFAULT_MAX_SIDE
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        if self.max_side < 1 or self.max_pixels < 1:
            raise ValueError("picture limits must be positive")

    def check(self, width: int, height: int, what: str = "the picture") -> None:
        """Raise PictureTooLargeError naming the size and the limit it breaks."""
        if max(width, height) > self.max_side:
            raise PictureTooLargeError(
                f"{what} is {width}x{height} pixels, larger than the limit of "
                f"{self.max_side} pixels a side"
            )
        if width * height > self.max_pixels:
            raise PictureTooLargeError(
                f"{what} is {width}x{height} pixels ({width * height / 1e6:.1f} megapixels), "
                f"more than the limit of {self.max_pixels / 1e6:.1f} megapixels"
            )


@dataclasses.dataclass(frozen=True)
class Limits:
    """The picture limits and a job's quotas: ``max_seconds`` of video and ``max_frames``
    extracted (None: no limit). ``probe`` refuses a video longer than allowed, from its
    header or, when the header declares no length, by reading its packets up to the limit;
    ``extract`` refuses a job whose frames, counted from the stream index before decoding,
    would pass the limit, and stops at the limit where they cannot be counted before (scene
    mode, a stream without timestamps). Each refusal says what the user can do."""

    picture: PictureLimits = PictureLimits()
    max_seconds: Fraction | None = None
    max_frames: int | None = None

    @classmethod
    def build(
        cls,
        max_side: int | None = None,
        max_pixels: int | None = None,
        max_seconds: float | None = None,
        max_frames: int | None = None,
    ) -> Limits:
        """From settings, where None means the engine's default (pictures) or no limit."""
        return cls(
            PictureLimits(max_side or DEFAULT_MAX_SIDE, max_pixels or DEFAULT_MAX_PIXELS),
            None if max_seconds is None else Fraction(str(max_seconds)),
            max_frames,
        )

    def check_duration(self, seconds: Fraction | None) -> None:
        """Raise VideoTooLongError for a video of ``seconds`` longer than allowed (None:
        not known, nothing to check)."""
        if self.max_seconds is not None and seconds is not None and seconds > self.max_seconds:
            raise VideoTooLongError(
                f"the video is {clock_text(seconds)} long; videos may be at most "
                f"{clock_text(self.max_seconds)}"
            )

    def check_reached(self, seconds: Fraction) -> None:
        """Raise VideoTooLongError once a video whose length was not known beforehand (no
        duration in its header, a timeline that jumps) has run past the limit: ``seconds``
        read so far."""
        if self.max_seconds is not None and seconds > self.max_seconds:
            raise VideoTooLongError(
                f"the video runs past {clock_text(self.max_seconds)}, the longest a video may be"
            )

    def check_packets(self, container: InputContainer, stream: VideoStream) -> None:
        """Read the packets of a video whose header declares no duration (no decoding) and
        raise VideoTooLongError at the first past ``max_seconds``. A packet's time is its
        own timestamp, or, in a stream without timestamps (a raw elementary stream), one
        nominal frame after the last, as the extractor's reader gives them."""
        if self.max_seconds is None:
            return
        import av

        rate = Fraction(stream.average_rate or stream.guessed_rate or 25)
        first: int | None = None
        count = 0
        try:
            for packet in container.demux(stream):
                if not packet.size:
                    continue
                count += 1
                if packet.pts is not None and stream.time_base:
                    first = packet.pts if first is None else min(first, packet.pts)
                    self.check_reached((packet.pts - first) * stream.time_base)
                else:
                    self.check_reached((count - 1) / rate)
        except av.FFmpegError:
            pass  # a damaged tail: what was read is the video (the extractor stops there too)

    def check_expected(self, frames: int, mode: str, fps: Fraction) -> None:
        """Raise TooManyFramesError when ``frames``, what a job of ``mode`` (at ``fps`` in
        interval mode) would extract by the count made before decoding, pass the limit."""
        if self.max_frames is None or frames <= self.max_frames:
            return
        if mode == "keyframes":
            made = f"the video has {frames} keyframes in the window"
            remedy = "use interval mode, or set start and end"
        else:
            made = (
                f"these options would extract about {frames} frames "
                f"({float(fps):g} per second of video)"
            )
            remedy = "lower fps, or set start and end"
        raise TooManyFramesError(f"{made}; a job may extract at most {self.max_frames}: {remedy}")

    def check_extracted(self, frames: int, mode: str) -> None:
        """Raise TooManyFramesError when ``frames`` extracted so far pass the limit (scene
        mode finds its frames as it decodes; a stream without timestamps cannot be counted
        before)."""
        if self.max_frames is None or frames <= self.max_frames:
            return
        if mode == "scene":
            made = f"scene mode found more than {self.max_frames} shots"
            remedy = "raise the scene threshold, or set start and end"
        else:
            made = f"the extraction passed {self.max_frames} frames"
            remedy = "lower fps, or set start and end"
        raise TooManyFramesError(f"{made}; a job may extract at most {self.max_frames}: {remedy}")


def clock_text(seconds: float | Fraction) -> str:
    """``0:02:05``: hours, minutes and seconds (whole)."""
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def plausible_sample_aspect_ratio(sar: Fraction) -> bool:
    return 1 / MAX_SAMPLE_ASPECT_RATIO <= sar <= MAX_SAMPLE_ASPECT_RATIO


def decoded_bytes(pixel_format: str, width: int, height: int) -> int:
    """Bytes of one decoded picture in ``pixel_format`` (all planes)."""
    import av

    try:
        components = av.VideoFormat(pixel_format, width, height).components
    except (ValueError, av.FFmpegError):
        return width * height * 8  # an unknown format: assume the widest (16-bit RGBA)
    return sum(c.width * c.height * -(-c.bits // 8) for c in components)
