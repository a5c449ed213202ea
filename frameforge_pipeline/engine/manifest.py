"""manifest.json: the video's facts, the options, and one entry per extracted frame."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from frameforge_pipeline.engine.extractor import ExtractionResult

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1

Manifest = dict[str, Any]
"""The manifest as plain JSON types (see ``build_manifest`` for its shape)."""


def build_manifest(result: ExtractionResult, video_id: str | None = None) -> Manifest:
    """The manifest of one extraction, as plain JSON types."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "video_id": video_id,
        "video": result.facts.to_json(),
        "options": result.options.model_dump(),
        "extraction": {
            "frame_count": len(result.frames),
            "expected_frames": result.expected_frames,
            "decoded_frames": result.decoded_frames,
            "corrupt_frames": result.corrupt_frames,
            "seeks": result.seeks,
            "truncated": result.truncated,
            "seconds": round(result.seconds, 3),
        },
        "frames": [dataclasses.asdict(record) for record in result.frames],
    }


def manifest_bytes(manifest: Manifest) -> bytes:
    return json.dumps(manifest, indent=2).encode() + b"\n"
