"""Resources bound by environment: the embedded default binds local implementations."""

from __future__ import annotations

from typing import Any

from frameforge_core.database import database_url
from frameforge_core.settings import store_root
from frameforge_pipeline.resources.database import AppDatabase
from frameforge_pipeline.resources.storage import FrameStore, LocalFrameStore

__all__ = ["AppDatabase", "FrameStore", "LocalFrameStore", "resources_for_environment"]


def resources_for_environment() -> dict[str, Any]:
    return {
        "storage": LocalFrameStore(root=str(store_root())),
        "database": AppDatabase(url=database_url()),
    }
