"""manifest.json: the video's facts, the options, and one entry per extracted frame."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from frameforge_pipeline.engine import tonemap
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.records import ExtractionResult
from frameforge_pipeline.engine.scenes import (
    ADAPTIVE_MIN_CONTENT,
    ADAPTIVE_WINDOW,
    MIN_SHOT_FRAMES,
    SCORE_SIDE,
)

if TYPE_CHECKING:
    from frameforge_pipeline.engine.storyboard import Storyboard

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1

Manifest = dict[str, Any]
"""The manifest as plain JSON types (see ``build_manifest`` for its shape)."""


def build_manifest(
    result: ExtractionResult,
    video_id: str | None = None,
    storyboard: Storyboard | None = None,
    file_name: str | None = None,
) -> Manifest:
    """The manifest of one extraction, as plain JSON types. ``file_name`` is the video's
    name as its user knows it (the upload's name, the CLI's input file)."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "video_id": video_id,
        "file_name": file_name,
        "video": result.facts.to_json(),
        "options": result.options.model_dump(),
        "extraction": {
            "frame_count": len(result.frames),
            "expected_frames": result.work.expected_frames,
            "decoded_frames": result.work.decoded_frames,
            "corrupt_frames": result.work.corrupt_frames,
            "dropped_duplicates": result.dropped_duplicates,
            "seeks": result.work.seeks,
            "truncated": result.work.truncated,
            "seconds": round(result.work.seconds, 3),
        },
        "settings": settings_used(result),
        "frames": [dataclasses.asdict(record) for record in result.frames],
        "storyboard": None if storyboard is None else dataclasses.asdict(storyboard),
    }


def settings_used(result: ExtractionResult) -> dict[str, Any]:
    """How the frames were made, beyond the options: the tone mapping applied (if any),
    the scene detector's and dedupe's parameters when they were on."""
    options = result.options
    transfer = tonemap.transfer_to_map(result.facts.color_trc, options.tonemap)
    return {
        "tone_mapping": None
        if transfer is None
        else {
            "from": transfer,
            "operator": tonemap.OPERATOR,
            "source_peak_nits": tonemap.SOURCE_PEAK_NITS,
            "sdr_white_nits": tonemap.SDR_WHITE_NITS,
            "to": f"BT.709 primaries, gamma 1/{tonemap.SDR_GAMMA} (BT.1886)",
        },
        "scene": None if options.mode != "scene" else scene_settings(options),
        "dedupe": None
        if options.dedupe is None
        else {
            "hash": "64-bit DCT pHash",
            "max_distance": options.dedupe,
            "dropped": result.dropped_duplicates,
        },
    }


def scene_settings(options: ExtractOptions) -> dict[str, Any]:
    """The detector scene mode used and its parameters (PySceneDetect's names in comments)."""
    common = {
        "score": "mean HSV difference, picture shrunk to 256 px (PySceneDetect ContentDetector)",
        "score_side": SCORE_SIDE,
        "min_shot_frames": MIN_SHOT_FRAMES,  # min_scene_len
    }
    if options.scene_detector == "adaptive":
        return {
            "detector": "adaptive (PySceneDetect AdaptiveDetector)",
            **common,
            "adaptive_threshold": options.adaptive_threshold,
            "min_content": ADAPTIVE_MIN_CONTENT,  # min_content_val
            "window": ADAPTIVE_WINDOW,  # window_width
        }
    return {
        "detector": "content (PySceneDetect ContentDetector)",
        **common,
        "threshold": options.scene_threshold,
        "flash_filter": "merge",  # cuts closer than min_shot_frames merge into the last
    }


def manifest_bytes(manifest: Manifest) -> bytes:
    return json.dumps(manifest, indent=2).encode() + b"\n"
