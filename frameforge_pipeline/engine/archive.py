"""The result ZIP: frames stored as they are (already compressed) and manifest.json last.

Written front to back to any binary stream, so it never has to be held in memory.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from typing import IO

from frameforge_pipeline.engine.manifest import MANIFEST_NAME, Manifest, manifest_bytes
from frameforge_pipeline.engine.records import FrameRecord

_COPY_CHUNK = 1 << 20


class FrameZip:
    """A ZIP being written to ``stream``; also a FrameSink for the extractor.

    Use it as a context manager: leaving the block closes the ZIP, finished or not.
    """

    def __init__(self, stream: IO[bytes]):
        self._zip = zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED, allowZip64=True)

    def __enter__(self) -> FrameZip:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._zip.close()

    def write(self, record: FrameRecord, data: bytes) -> None:
        self._zip.writestr(record.file, data)

    def add(self, name: str, data: bytes) -> None:
        """Add an entry from memory (a storyboard's sheets and VTT)."""
        self._zip.writestr(name, data)

    def copy(self, name: str, source: IO[bytes]) -> None:
        """Add an entry by copying ``source`` in chunks."""
        with self._zip.open(name, "w", force_zip64=True) as entry:
            shutil.copyfileobj(source, entry, _COPY_CHUNK)

    def add_manifest(self, manifest: Manifest) -> None:
        """Write manifest.json, the last entry."""
        self._zip.writestr(MANIFEST_NAME, manifest_bytes(manifest), zipfile.ZIP_DEFLATED)


def zip_problems(stream: IO[bytes]) -> list[str]:
    """What is wrong with a result ZIP: unreadable, or entries that disagree with its manifest.

    An empty list means the ZIP opens, every file the manifest lists (frames, storyboard) is
    there with the right size and sha256, and nothing else is.
    """
    try:
        with zipfile.ZipFile(stream) as archive:
            manifest = json.loads(archive.read(MANIFEST_NAME))
            names = set(archive.namelist()) - {MANIFEST_NAME}
            problems = []
            files = manifest["frames"] + (manifest.get("storyboard") or {}).get("files", [])
            listed = {entry["file"]: entry for entry in files}
            if len(listed) != len(files):
                problems.append("the manifest lists a file twice")
            for extra in sorted(names - listed.keys()):
                problems.append(f"{extra} is in the ZIP but not in the manifest")
            for name, frame in listed.items():
                if name not in names:
                    problems.append(f"{name} is in the manifest but not in the ZIP")
                    continue
                data = archive.read(name)
                if len(data) != frame["bytes"]:
                    problems.append(f"{name}: {len(data)} bytes, manifest says {frame['bytes']}")
                elif hashlib.sha256(data).hexdigest() != frame["sha256"]:
                    problems.append(f"{name}: sha256 differs from the manifest")
            return problems
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        return [f"the ZIP cannot be read: {error}"]
