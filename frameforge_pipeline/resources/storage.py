"""The object store: uploads, frames and results. One interface, one implementation per place.

Assets annotate ``FrameStore``; the embedded default binds ``LocalFrameStore`` and production
binds the S3 store, so asset code never knows which one it writes to.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from abc import abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import dagster as dg

_KEY = re.compile(r"^(?!/)(?!.*//)[A-Za-z0-9._=/-]+$")


def check_key(key: str) -> str:
    """Return ``key`` if it is a relative path with no '..' segment; raise ValueError."""
    if not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid storage key {key!r}")
    return key


class FrameStore(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Keyed binary objects. Every method raises ValueError for an unsafe key."""

    @abstractmethod
    def open_read(self, key: str) -> contextlib.AbstractContextManager[IO[bytes]]:
        """A readable stream of the object. Raises FileNotFoundError if it does not exist."""

    @abstractmethod
    def open_write(self, key: str) -> contextlib.AbstractContextManager[IO[bytes]]:
        """A writable stream; the object appears whole when the block ends, never in part."""

    @abstractmethod
    def local_path(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A local file holding the object, removed after the block if it was a copy."""

    @abstractmethod
    def list_keys(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, sorted."""

    @abstractmethod
    def size(self, key: str) -> int:
        """Bytes in the object. Raises FileNotFoundError if it does not exist."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None:
        """Remove every object under ``prefix``; nothing there is fine."""

    @abstractmethod
    def uri(self, key: str) -> str:
        """Where a person or a tool (DuckDB, a browser) finds the object."""

    @abstractmethod
    def move(self, source: str, target: str) -> None:
        """The object at ``source`` becomes the object at ``target`` (which appears whole or
        not at all), and ``source`` is gone. Raises FileNotFoundError without ``source``."""

    def presigned_url(self, method: str, key: str, seconds: int, **params: str | int) -> str | None:
        """A URL a plain HTTP client can GET or PUT the object with, for ``seconds``; None
        when the store has no such URLs (the local store: the API serves it instead)."""
        return None


class LocalFrameStore(FrameStore):
    """Objects as files under ``root`` (the embedded default)."""

    root: str

    def _path(self, key: str) -> Path:
        return Path(self.root) / check_key(key)

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[IO[bytes]]:
        with self._path(key).open("rb") as stream:
            yield stream

    @contextlib.contextmanager
    def open_write(self, key: str) -> Iterator[IO[bytes]]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as stream:
                yield stream
            os.replace(partial, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no object at {key}")
        yield path

    def list_keys(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/"))
        if not base.is_dir():
            return []
        root = Path(self.root)
        return sorted(
            p.relative_to(root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.endswith(".partial")
        )

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix.rstrip("/")), ignore_errors=True)

    def uri(self, key: str) -> str:
        return self._path(key).resolve().as_uri()

    def move(self, source: str, target: str) -> None:
        path, destination = self._path(source), self._path(target)
        if not path.is_file():
            raise FileNotFoundError(f"no object at {source}")
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, destination)  # one rename: atomic, whatever the size
