"""Storyboards: the extracted frames as tiles of sprite sheets, and a WebVTT file mapping
each time range to its tile (``sheet_000.jpg#xywh=0,0,160,90``), the format video.js, Plyr
and JW Player read for hover previews on a timeline.

Tile ``i`` shows frame ``i`` from its timestamp to the next frame's (the last one to the
end of the video or window), so any sampling mode, dedupe included, gives a storyboard
without gaps. Sheets hold ``columns x rows`` tiles; a long video gets several, and memory
holds one sheet being filled. The builder is a FrameSink: it takes each frame as encoded
(the CLI feeds it while writing the ZIP; the Dagster asset reads the frames from the store)
and decodes it at a reduced size, which for JPEG costs a fraction of a full decode.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.records import ExtractionResult, FrameRecord, FrameSink
from frameforge_pipeline.engine.storyboard_names import STORYBOARD_DIR, VTT_NAME, sheet_name

SHEET_QUALITY = 80  # JPEG quality of the sheets: thumbnails, looked at small
_REDUCED = (
    (8, cv2.IMREAD_REDUCED_COLOR_8),
    (4, cv2.IMREAD_REDUCED_COLOR_4),
    (2, cv2.IMREAD_REDUCED_COLOR_2),
)


@dataclass(frozen=True)
class StoryboardFile:
    """One file of a storyboard, as the manifest lists it (``file`` relative to the ZIP)."""

    file: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Storyboard:
    """What a finished storyboard holds; ``files`` are the sheets, then the VTT."""

    tile_width: int
    tile_height: int
    columns: int
    rows: int
    tiles: int
    files: list[StoryboardFile] = field(default_factory=list)

    @property
    def vtt(self) -> str:
        return STORYBOARD_DIR + VTT_NAME


def vtt_time(ms: float) -> str:
    """WebVTT's timestamp: ``01:02:03.456``."""
    total = round(ms)
    hours, rest = divmod(total, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


class StoryboardBuilder:
    """Tiles frames into sheets as they come; ``save(name, data)`` receives each sheet and
    finally the VTT, names relative to the storyboard's folder."""

    def __init__(self, options: ExtractOptions, save: Callable[[str, bytes], None]):
        self.tile_width, self.tile_height = options.storyboard_tile_width, 0
        self.columns, self.rows = options.storyboard_columns, options.storyboard_rows
        self._reduce = cv2.IMREAD_COLOR
        self._save = save
        self._sheet = self._blank()
        self._times: list[float] = []
        self._files: list[StoryboardFile] = []

    def _size_for(self, width: int, height: int) -> None:
        """Tiles keep the frames' aspect ratio and are never larger than the frames."""
        self.tile_width = min(self.tile_width, width)
        self.tile_height = max(1, round(self.tile_width * height / width))
        self._reduce = next(
            (flag for factor, flag in _REDUCED if width >= factor * self.tile_width),
            cv2.IMREAD_COLOR,
        )
        self._sheet = self._blank()

    @property
    def _per_sheet(self) -> int:
        return self.columns * self.rows

    def _blank(self) -> np.ndarray:
        return np.zeros((self.rows * self.tile_height, self.columns * self.tile_width, 3), np.uint8)

    def write(self, record: FrameRecord, data: bytes) -> None:
        """Add the next frame (in order) as a tile."""
        if not self._times:
            self._size_for(record.width, record.height)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), self._reduce)
        if image is None:
            raise ValueError(f"{record.file} cannot be decoded for the storyboard")
        tile = cv2.resize(image, (self.tile_width, self.tile_height), interpolation=cv2.INTER_AREA)
        row, column = divmod(len(self._times) % self._per_sheet, self.columns)
        y, x = row * self.tile_height, column * self.tile_width
        self._sheet[y : y + self.tile_height, x : x + self.tile_width] = tile
        self._times.append(record.timestamp_ms)
        if len(self._times) % self._per_sheet == 0:
            self._flush(self.rows)

    def _flush(self, rows: int) -> None:
        ok, buffer = cv2.imencode(
            ".jpg",
            self._sheet[: rows * self.tile_height],
            [cv2.IMWRITE_JPEG_QUALITY, SHEET_QUALITY],
        )
        if not ok:
            raise RuntimeError("the storyboard sheet could not be encoded")
        self._store(sheet_name(len(self._files)), buffer.tobytes())
        self._sheet = self._blank()

    def _store(self, name: str, data: bytes) -> None:
        self._save(name, data)
        self._files.append(
            StoryboardFile(STORYBOARD_DIR + name, len(data), hashlib.sha256(data).hexdigest())
        )

    def finish(self, end_ms: float) -> Storyboard:
        """Write the last (partly filled) sheet and the VTT; the last cue ends at ``end_ms``
        (the end of the video or window; at least a millisecond after the last frame)."""
        if left := len(self._times) % self._per_sheet:
            self._flush(-(-left // self.columns))
        self._store(VTT_NAME, self.cues(end_ms).encode())
        return Storyboard(
            self.tile_width, self.tile_height, self.columns, self.rows, len(self._times),
            list(self._files),
        )  # fmt: skip

    def cues(self, end_ms: float) -> str:
        """The WebVTT text: one cue per tile, referencing its sheet relative to the VTT."""
        lines = ["WEBVTT", ""]
        ends = [*self._times[1:], max(end_ms, self._times[-1] + 1)] if self._times else []
        for i, (begin, end) in enumerate(zip(self._times, ends, strict=True)):
            sheet, place = divmod(i, self._per_sheet)
            row, column = divmod(place, self.columns)
            xywh = f"{column * self.tile_width},{row * self.tile_height},"
            xywh += f"{self.tile_width},{self.tile_height}"
            lines += [
                f"{vtt_time(begin)} --> {vtt_time(end)}",
                f"{sheet_name(sheet)}#xywh={xywh}",
                "",
            ]
        return "\n".join(lines) + "\n"


def end_ms(result: ExtractionResult) -> float:
    """Where the last tile's cue ends: the end of the window or of the video, whichever
    comes first; without either, one sampling interval after the last frame."""
    ends = [
        float(limit) * 1000
        for limit in (result.options.end, result.facts.duration)
        if limit is not None
    ]
    if ends:
        return min(ends)
    last = result.frames[-1].timestamp_ms if result.frames else 0.0
    return last + 1000 / result.options.fps


class TeeSink:
    """A FrameSink that hands every frame to several sinks, in order."""

    def __init__(self, *sinks: FrameSink):
        self._sinks = sinks

    def write(self, record: FrameRecord, data: bytes) -> None:
        for sink in self._sinks:
            sink.write(record, data)
