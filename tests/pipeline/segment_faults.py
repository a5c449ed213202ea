"""A segment that fails once, for the tests of re-execution from failure: imported into the
step processes (preloaded by the multiprocess executor's forkserver), it makes segment
$FRAMEFORGE_TEST_FAIL_SEGMENT raise the first time it runs, while the marker file
$FRAMEFORGE_TEST_FAIL_MARKER exists (it is removed as the failure happens)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from frameforge_pipeline.assets import frames

_real = frames.extract_segment_frames


def _failing_once(path: Path, options: Any, segment: Any, *args: Any, **kwargs: Any) -> Any:
    marker = Path(os.environ.get("FRAMEFORGE_TEST_FAIL_MARKER", "/nonexistent"))
    if str(segment.index) == os.environ.get("FRAMEFORGE_TEST_FAIL_SEGMENT") and marker.exists():
        marker.unlink()
        raise OSError(5, "Input/output error (injected once)")
    return _real(path, options, segment, *args, **kwargs)


if os.environ.get("FRAMEFORGE_TEST_FAIL_SEGMENT"):
    frames.extract_segment_frames = _failing_once
