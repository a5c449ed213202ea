"""Both stores, one contract: safe keys, whole-or-nothing writes, listing, deleting.

The S3 store runs against a moto S3 server over HTTP on loopback (see tests/conftest.py).
"""

import pytest

from frameforge_pipeline.resources import LocalFrameStore


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalFrameStore(root=str(tmp_path / "store"))
    return request.getfixturevalue("s3_store")


@pytest.mark.parametrize(
    "key", ["../outside", "a/../../b", "/etc/passwd", "a//b", "a\\b", "", "frames/x y.jpg"]
)
def test_unsafe_keys_are_refused(store, key):
    with pytest.raises(ValueError, match="invalid storage key"):
        store.size(key)


def test_write_read_list_delete(store):
    with store.open_write("frames/v1/a.jpg") as stream:
        stream.write(b"abc")
    with store.open_write("frames/v1/sub/b.jpg") as stream:
        stream.write(b"de")
    assert store.list_keys("frames/v1/") == ["frames/v1/a.jpg", "frames/v1/sub/b.jpg"]
    assert store.size("frames/v1/a.jpg") == 3
    with store.open_read("frames/v1/a.jpg") as stream:
        assert stream.read() == b"abc"
    with store.local_path("frames/v1/a.jpg") as path:
        assert path.read_bytes() == b"abc"
    assert store.uri("frames/v1/a.jpg").startswith(("file:///", "s3://"))
    store.delete_prefix("frames/v1/")
    assert store.list_keys("frames/v1/") == []
    store.delete_prefix("frames/never/")  # nothing there is fine


def test_a_failed_write_leaves_neither_object_nor_partial(store, tmp_path):
    with store.open_write("results/v/frames.zip") as stream:
        stream.write(b"old")

    def write_half_then_fail():
        with store.open_write("results/v/frames.zip") as stream:
            stream.write(b"half of the new one")
            raise RuntimeError("disk pulled")

    with pytest.raises(RuntimeError):
        write_half_then_fail()
    with store.open_read("results/v/frames.zip") as stream:
        assert stream.read() == b"old"
    assert store.list_keys("results/") == ["results/v/frames.zip"]
    if isinstance(store, LocalFrameStore):  # no partial file left on disk either
        assert [p.name for p in (tmp_path / "store").rglob("*")] == ["results", "v", "frames.zip"]


def test_missing_objects(store):
    with pytest.raises(FileNotFoundError), store.local_path("uploads/none/x.mp4"):
        pass
    with pytest.raises(FileNotFoundError), store.open_read("uploads/none/x.mp4"):
        pass
    assert store.list_keys("uploads/none/") == []


def test_many_objects_list_and_delete_past_one_page(store):
    for i in range(1005):  # S3 lists and deletes 1000 at a time
        with store.open_write(f"frames/big/f{i:05d}.jpg") as stream:
            stream.write(b"x")
    assert len(store.list_keys("frames/big/")) == 1005
    store.delete_prefix("frames/big/")
    assert store.list_keys("frames/big/") == []
