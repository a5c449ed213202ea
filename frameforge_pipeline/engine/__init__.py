"""The extraction engine: plain Python (PyAV, OpenCV), no Dagster, shared by every entry point."""

from frameforge_pipeline.engine.archive import FrameZip, zip_problems
from frameforge_pipeline.engine.errors import (
    CorruptVideoError,
    EmptyFileError,
    NotAVideoError,
    NoVideoStreamError,
    VideoError,
)
from frameforge_pipeline.engine.extractor import (
    ExtractionResult,
    FrameRecord,
    FrameSink,
    Progress,
    extract,
)
from frameforge_pipeline.engine.manifest import MANIFEST_NAME, build_manifest
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.probe import VideoFacts, probe

__all__ = [
    "MANIFEST_NAME",
    "CorruptVideoError",
    "EmptyFileError",
    "ExtractOptions",
    "ExtractionResult",
    "FrameRecord",
    "FrameSink",
    "FrameZip",
    "NoVideoStreamError",
    "NotAVideoError",
    "Progress",
    "VideoError",
    "VideoFacts",
    "build_manifest",
    "extract",
    "probe",
    "zip_problems",
]
