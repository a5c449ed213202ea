"""What the user asks of an extraction: declared once, here, for every entry point.

The CLI's flags (``frameforge.cli``), the Dagster run config of ``frames``
(``frameforge_pipeline.assets.extraction.ExtractionConfig``) and the API's ``options`` body
are all derived from ``ExtractOptions``: adding an option is one field here (with its
description) plus its tests. Field names are snake_case in Python, the CLI (``--max-width``),
Dagster and manifest.json; the API takes camelCase (``maxWidth``), like every field of its
bodies, and accepts the snake_case names too.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

MIN_FPS = 0.001  # one frame every 1000 s
MAX_FPS = 120.0
MAX_SIDE = 16384

ImageFormat = Literal["jpg", "png", "webp"]
Mode = Literal["interval", "keyframes", "scene"]
SceneDetector = Literal["content", "adaptive"]
ToneMap = Literal["auto", "none"]

# The mean HSV difference (0-255) between consecutive frames that marks a cut: the default
# of PySceneDetect's ContentDetector, whose score this is (engine/scenes.py).
DEFAULT_SCENE_THRESHOLD = 27.0
# How many times a frame's score must exceed the mean of its neighbours' to make a cut with
# the adaptive detector: the default of PySceneDetect's AdaptiveDetector.
DEFAULT_ADAPTIVE_THRESHOLD = 3.0
# Hamming distance of 64-bit pHashes at or under which a frame repeats the last one kept:
# re-encodes and noise of one picture stay within 2-4, different shots are 20-40 apart.
DEFAULT_DEDUPE_DISTANCE = 6

BARE_FLAG_VALUES: dict[str, Any] = {"dedupe": DEFAULT_DEDUPE_DISTANCE}
"""What an option means when its CLI flag is given without a value (``--dedupe``)."""


class ExtractOptions(BaseModel):
    """Options of one extraction. Raises ``pydantic.ValidationError`` on out-of-range values."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        allow_inf_nan=False,  # JSON's Infinity/NaN (and 1e999): no window, no exact fraction
    )

    fps: float = Field(
        1.0, ge=MIN_FPS, le=MAX_FPS, description="frames per second of video, in interval mode"
    )
    format: ImageFormat = Field("jpg", description="image format")
    quality: int = Field(90, ge=1, le=100, description="image quality of jpg and webp")
    max_width: int | None = Field(
        None, ge=16, le=MAX_SIDE, description="shrink (never enlarge) to at most this width"
    )
    max_height: int | None = Field(
        None, ge=16, le=MAX_SIDE, description="shrink (never enlarge) to at most this height"
    )
    start: float = Field(0.0, ge=0, description="first second to sample")
    end: float | None = Field(None, gt=0, description="stop before this second")
    mode: Mode = Field(
        "interval",
        description="interval: the fps grid; keyframes: every keyframe in the window; "
        "scene: the first frame and the first frame after each cut",
    )
    scene_detector: SceneDetector = Field(
        "content",
        description="scene mode: content (PySceneDetect's ContentDetector: a cut where the "
        "score reaches scene_threshold) or adaptive (its AdaptiveDetector: where the score "
        "is adaptive_threshold times its neighbours', steadier under camera motion)",
    )
    scene_threshold: float = Field(
        DEFAULT_SCENE_THRESHOLD,
        gt=0,
        le=255,
        description="scene mode, content detector: mean HSV difference between frames that "
        "makes a cut",
    )
    adaptive_threshold: float = Field(
        DEFAULT_ADAPTIVE_THRESHOLD,
        gt=0,
        le=255,
        description="scene mode, adaptive detector: how many times the mean score of the "
        "frames around it a frame's score must be to make a cut",
    )
    dedupe: int | None = Field(
        None,
        ge=0,
        le=64,
        description="drop a frame whose perceptual hash is within this Hamming distance of "
        f"the last kept frame's (true or a bare --dedupe: {DEFAULT_DEDUPE_DISTANCE})",
    )
    tonemap: ToneMap = Field(
        "auto",
        description="auto: tone-map HDR (PQ, HLG) to SDR BT.709; none: convert as is",
    )
    timestamp_names: bool = Field(
        False, description="put the time in file names: frame_000012_00-00-12.000.jpg"
    )
    storyboard: bool = Field(
        False, description="also make sprite sheets and a WebVTT file of the frames"
    )
    storyboard_tile_width: int = Field(
        160, ge=16, le=1920, description="width of a storyboard tile (height keeps the aspect)"
    )
    storyboard_columns: int = Field(10, ge=1, le=100, description="tiles per sprite sheet row")
    storyboard_rows: int = Field(10, ge=1, le=100, description="rows per sprite sheet")

    @field_validator("dedupe", mode="before")
    @classmethod
    def _dedupe_switch(cls, value: object) -> object:
        """``true`` means the default distance, ``false`` none (not the integers 1 and 0)."""
        if value is True:
            return DEFAULT_DEDUPE_DISTANCE
        if value is False:
            return None
        return value

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


def constraint_text(name: str) -> str:
    """The range of option ``name`` in words (``0.001 to 120``), for help texts; '' if none."""
    bounds: dict[str, float] = {}
    for rule in ExtractOptions.model_fields[name].metadata:
        for kind in ("ge", "gt", "le", "lt"):
            if (value := getattr(rule, kind, None)) is not None:
                bounds[kind] = value
    low, high = bounds.get("ge"), bounds.get("le")
    if low is not None and high is not None:
        return f"{low:g} to {high:g}"
    if low is not None:
        return f"{low:g} or more"
    if (above := bounds.get("gt")) is not None:
        return f"more than {above:g}"
    return ""
