"""A storyboard's file names and how the WebVTT refers to its sheets: no image library, so
the API serves a storyboard without loading OpenCV (``storyboard`` makes the files)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

STORYBOARD_DIR = "storyboard/"  # inside the ZIP, and under the results in the store
VTT_NAME = "storyboard.vtt"
_SHEET_REFERENCE = re.compile(r"^(sheet_\d{3,}\.jpg)(#xywh=\d+,\d+,\d+,\d+)$", re.MULTILINE)


def sheet_name(number: int) -> str:
    return f"sheet_{number:03d}.jpg"


def is_sheet_name(name: str) -> bool:
    """``sheet_000.jpg``…, ASCII digits only (``\\d`` would take Arabic-Indic digits too)."""
    return re.fullmatch(r"sheet_[0-9]{3,}\.jpg", name) is not None


def with_sheet_urls(vtt: str, url_of: Callable[[str], str]) -> str:
    """The VTT with each sheet's name replaced by ``url_of(name)``, the fragment kept."""
    return _SHEET_REFERENCE.sub(lambda m: url_of(m[1]) + m[2], vtt)


def storyboard_files(manifest: dict[str, Any]) -> list[str]:
    """The storyboard files a manifest lists (``storyboard/sheet_000.jpg``…), in order."""
    return [entry["file"] for entry in (manifest.get("storyboard") or {}).get("files", [])]
