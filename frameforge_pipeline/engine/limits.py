"""How large a picture the engine accepts, and how much of it may be in memory at once.

A run's pod has 2 GiB. A decoded 8-bit 4:2:0 picture takes 1.5 bytes a pixel, its BGR copy
3, and its encoded image up to as much again, so an unbounded picture (a stream that claims
16000x16000, a pixel aspect ratio of 2279:1 stretching 320 pixels to 729,280) exhausts the
pod before the first frame is written. ``probe`` refuses pictures beyond these limits with
a PictureTooLargeError, and the extractor sizes its frames in flight by their bytes.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import av

from frameforge_pipeline.engine.errors import PictureTooLargeError

# DCI 8K: every 8K format (UHD 7680x4320, DCI 8192x4320, 8192x4096 360-degree video) fits.
DEFAULT_MAX_SIDE = 8192
DEFAULT_MAX_PIXELS = 8192 * 4320
# Real anamorphic video stays within 2:1 (a 2x lens; HDV's 4:3); beyond 4:1 a declared
# sample aspect ratio is a broken or hostile header, and the picture is shown as coded.
MAX_SAMPLE_ASPECT_RATIO = Fraction(4)


@dataclasses.dataclass(frozen=True)
class PictureLimits:
    """The largest picture accepted, coded or displayed: ``max_side`` pixels on its longer
    side and ``max_pixels`` in all. ``from_environment`` reads the operator's overrides."""

    max_side: int = DEFAULT_MAX_SIDE
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        if self.max_side < 1 or self.max_pixels < 1:
            raise ValueError("picture limits must be positive")

    @classmethod
    def from_environment(cls) -> PictureLimits:
        """``FRAMEFORGE_MAX_PICTURE_SIDE`` and ``FRAMEFORGE_MAX_PICTURE_PIXELS``, where set."""
        from frameforge_core.settings import PictureLimitSettings

        settings = PictureLimitSettings()
        return cls(
            max_side=settings.max_picture_side or DEFAULT_MAX_SIDE,
            max_pixels=settings.max_picture_pixels or DEFAULT_MAX_PIXELS,
        )

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


def plausible_sample_aspect_ratio(sar: Fraction) -> bool:
    return 1 / MAX_SAMPLE_ASPECT_RATIO <= sar <= MAX_SAMPLE_ASPECT_RATIO


def decoded_bytes(pixel_format: str, width: int, height: int) -> int:
    """Bytes of one decoded picture in ``pixel_format`` (all planes)."""
    try:
        components = av.VideoFormat(pixel_format, width, height).components
    except (ValueError, av.FFmpegError):
        return width * height * 8  # an unknown format: assume the widest (16-bit RGBA)
    return sum(c.width * c.height * -(-c.bits // 8) for c in components)
