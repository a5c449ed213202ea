"""Manifest <-> ZIP consistency (hypothesis) and the archive's failure modes."""

import hashlib
import io
import json
import zipfile

from hypothesis import given
from hypothesis import strategies as st

from frameforge_pipeline.engine.archive import FrameZip, zip_problems
from frameforge_pipeline.engine.manifest import MANIFEST_NAME
from frameforge_pipeline.engine.records import FrameRecord

payloads = st.lists(st.binary(min_size=0, max_size=2048), min_size=0, max_size=30)


def record(index: int, data: bytes) -> FrameRecord:
    return FrameRecord(
        index=index,
        timestamp_ms=index * 1000.0,
        file=f"frame_{index:06d}.jpg",
        bytes=len(data),
        width=4,
        height=3,
        sha256=hashlib.sha256(data).hexdigest(),
        phash="0" * 16,
        brightness=0.5,
        sharpness=0.0,
    )


def build(frames: list[bytes], copy: bool = False) -> tuple[bytes, dict]:
    records = [record(i, data) for i, data in enumerate(frames)]
    manifest = {"manifest_version": 1, "frames": [r.__dict__ for r in records]}
    out = io.BytesIO()
    with FrameZip(out) as archive:
        for r, data in zip(records, frames, strict=True):
            if copy:
                archive.copy(r.file, io.BytesIO(data))
            else:
                archive.write(r, data)
        archive.add_manifest(manifest)
    return out.getvalue(), manifest


@given(payloads, st.booleans())
def test_zip_holds_exactly_the_manifest_frames(frames, copy):
    data, manifest = build(frames, copy)
    assert zip_problems(io.BytesIO(data)) == []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist()[-1] == MANIFEST_NAME
        assert json.loads(archive.read(MANIFEST_NAME)) == manifest
        for frame, payload in zip(manifest["frames"], frames, strict=True):
            assert archive.read(frame["file"]) == payload


@given(st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=10), st.data())
def test_any_tampered_entry_is_reported(frames, draw):
    data, manifest = build(frames)
    victim = draw.draw(st.integers(0, len(frames) - 1))
    manifest["frames"][victim]["sha256"] = "0" * 64
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            payload = source.read(name)
            target.writestr(name, json.dumps(manifest) if name == MANIFEST_NAME else payload)
    assert zip_problems(io.BytesIO(out.getvalue())) == [
        f"frame_{victim:06d}.jpg: sha256 differs from the manifest"
    ]


def test_missing_and_extra_entries_are_reported():
    _data, manifest = build([b"a", b"b"])
    manifest["frames"].append({**manifest["frames"][0], "file": "frame_000009.jpg"})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("frame_000000.jpg", b"a")
        archive.writestr("stray.txt", b"?")
        archive.writestr(MANIFEST_NAME, json.dumps(manifest))
    assert zip_problems(io.BytesIO(out.getvalue())) == [
        "stray.txt is in the ZIP but not in the manifest",
        "frame_000001.jpg is in the manifest but not in the ZIP",
        "frame_000009.jpg is in the manifest but not in the ZIP",
    ]


def test_a_broken_zip_is_reported_not_raised():
    assert zip_problems(io.BytesIO(b"PK\x03\x04 not really"))[0].startswith(
        "the ZIP cannot be read"
    )
