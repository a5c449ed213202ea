"""What the user asks of an extraction, validated once for the CLI, the pipeline and the API."""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MIN_FPS = 0.001  # one frame every 1000 s
MAX_FPS = 120.0
MAX_SIDE = 16384

ImageFormat = Literal["jpg", "png", "webp"]
Mode = Literal["interval", "keyframes"]


class ExtractOptions(BaseModel):
    """Options of one extraction. Raises ``pydantic.ValidationError`` on out-of-range values.

    - ``fps``: frames per second of video to sample in ``interval`` mode (default 1).
    - ``format``/``quality``: image encoding; quality 1-100 applies to jpg and webp.
    - ``max_width``/``max_height``: shrink (never enlarge) to fit, keeping the aspect ratio.
    - ``start``/``end``: the window in seconds from the first frame; ``end`` is exclusive.
    - ``mode``: ``interval`` samples on the ``fps`` grid, ``keyframes`` returns every keyframe.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fps: float = Field(1.0, ge=MIN_FPS, le=MAX_FPS)
    format: ImageFormat = "jpg"
    quality: int = Field(90, ge=1, le=100)
    max_width: int | None = Field(None, ge=16, le=MAX_SIDE)
    max_height: int | None = Field(None, ge=16, le=MAX_SIDE)
    start: float = Field(0.0, ge=0)
    end: float | None = Field(None, gt=0)
    mode: Mode = "interval"

    @model_validator(mode="after")
    def _window_not_empty(self) -> ExtractOptions:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end} s) must be after start ({self.start} s)")
        return self

    @property
    def fps_fraction(self) -> Fraction:
        """The sampling rate as an exact fraction (0.5 -> 1/2, 29.97 -> 2997/100)."""
        return Fraction(self.fps).limit_denominator(100_000)

    @property
    def start_fraction(self) -> Fraction:
        return Fraction(self.start).limit_denominator(1_000_000)

    @property
    def end_fraction(self) -> Fraction | None:
        return None if self.end is None else Fraction(self.end).limit_denominator(1_000_000)


def validation_message(error: ValidationError) -> str:
    """One line naming each rejected option: ``fps: Input should be less than or equal to 120``."""
    parts = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)
