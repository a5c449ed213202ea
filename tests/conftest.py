"""Fixture videos with known truth, generated once per session with PyAV."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import dagster as dg
import numpy as np
import pytest
from hypothesis import settings

from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.engine import FrameRecord
from frameforge_pipeline.resources import AppDatabase, LocalFrameStore
from frameforge_pipeline.samples import read_index, write_clip

# No wall-clock deadline: timings belong in bench/, and CI machines are shared.
settings.register_profile("frameforge", deadline=None, max_examples=100)
settings.load_profile("frameforge")


class Clip:
    """A generated video and the true presentation time of each of its frames."""

    def __init__(self, path: Path, times: list[Fraction]):
        self.path, self.times = path, times


@pytest.fixture(scope="session")
def make_clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Clip]:
    """``make_clip("name.mp4", **write_clip_kwargs)``, cached by name for the session."""
    folder = tmp_path_factory.mktemp("clips")
    made: dict[str, Clip] = {}

    def make(name: str, **kwargs: Any) -> Clip:
        if name not in made:
            path = folder / name
            made[name] = Clip(path, write_clip(path, **kwargs))
        return made[name]

    return make


class Collector:
    """A FrameSink that keeps records and decodes which source frame each image shows."""

    def __init__(self) -> None:
        self.records: list[FrameRecord] = []
        self.images: list[np.ndarray] = []

    def write(self, record: FrameRecord, data: bytes) -> None:
        self.records.append(record)
        self.images.append(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))

    @property
    def source_indices(self) -> list[int]:
        return [read_index(image) for image in self.images]

    @property
    def times_ms(self) -> list[float]:
        return [record.timestamp_ms for record in self.records]


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A temporary Dagster instance."""
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def storage(tmp_path: Path) -> LocalFrameStore:
    return LocalFrameStore(root=str(tmp_path / "store"))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def defs(storage: LocalFrameStore, database: AppDatabase) -> dg.Definitions:
    """The code location bound to the test's store and app database."""
    return build_definitions({"storage": storage, "database": database})
