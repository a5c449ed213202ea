"""Resources bound by environment: the embedded default binds local implementations."""

from __future__ import annotations

from typing import Any

from frameforge_pipeline.resources.storage import FrameStore, LocalFrameStore
from frameforge_pipeline.settings import store_root

__all__ = ["FrameStore", "LocalFrameStore", "resources_for_environment"]


def resources_for_environment() -> dict[str, Any]:
    return {"storage": LocalFrameStore(root=str(store_root()))}
