"""Extraction straight into a local ZIP file, with a progress bar for terminals."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tqdm import tqdm

from frameforge_pipeline.engine.archive import FrameZip
from frameforge_pipeline.engine.errors import EmptyWindowError
from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.limits import Limits
from frameforge_pipeline.engine.manifest import build_manifest
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.records import ExtractionResult, FrameSink, Progress
from frameforge_pipeline.engine.storyboard import StoryboardBuilder, TeeSink, end_ms
from frameforge_pipeline.engine.storyboard_names import STORYBOARD_DIR


def extract_to_zip(
    video: Path,
    output: Path,
    options: ExtractOptions,
    show_progress: bool = False,
    limits: Limits | None = None,
) -> ExtractionResult:
    """Write the ZIP of ``video`` to ``output``; nothing is left at ``output`` on failure.
    ``limits``: the engine's (picture limits, no quota) unless given.

    Raises the engine's VideoError subclasses (EmptyWindowError when the options' window
    holds no frame: an empty ZIP is no answer) and OSError.
    """
    partial = output.with_name(f".{output.name}.partial")
    bar = tqdm(unit="frame", disable=not show_progress, dynamic_ncols=True, leave=False)

    def advance(progress: Progress) -> None:
        bar.total = progress.expected
        bar.update(1)

    try:
        with bar, partial.open("wb") as stream, FrameZip(stream) as archive:
            board = None
            if options.storyboard:
                board = StoryboardBuilder(
                    options, lambda name, data: archive.add(STORYBOARD_DIR + name, data)
                )
            sink: FrameSink = archive if board is None else TeeSink(archive, board)
            result = extract(video, options, sink, on_progress=advance, limits=limits)
            if not result.frames:
                raise EmptyWindowError(_empty_window(result))
            storyboard = None if board is None else board.finish(end_ms(result))
            archive.add_manifest(
                build_manifest(result, storyboard=storyboard, file_name=video.name)
            )
        os.replace(partial, output)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return result


def _empty_window(result: ExtractionResult) -> str:
    """Why no frame came out: a window past the end, or none of the mode's frames in it."""
    options, duration = result.options, result.facts.duration
    if duration is not None and options.start_fraction >= duration:
        return (
            f"no frame in the window: it starts at {options.start:g} s, after the end of the "
            f"video ({float(duration):.1f} s)"
        )
    end = "the end" if options.end is None else f"{options.end:g} s"
    return f"no frame in the window from {options.start:g} s to {end} ({options.mode} mode)"
