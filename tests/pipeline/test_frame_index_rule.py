"""The frame index's rule, as a property: whatever order extractions, compactions, drops and
crashes come in, and wherever an extraction or a drop lands inside a compaction, ``frames``
holds each live partition's latest rows exactly once, and nothing of a dropped one."""

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from frameforge_core import layout
from frameforge_pipeline import frame_index_store as index
from frameforge_pipeline.resources import LocalFrameStore

PARTITIONS = ["a", "b", "c.0123456789ab"]
START = dt.datetime(2026, 11, 28, 23, 0, tzinfo=dt.UTC)


class Interrupted(Exception):
    pass


class HookedStore(LocalFrameStore):
    """A store that, at its n-th write or delete, runs a hook first: another process's
    extraction or drop landing in the middle of a compaction, or a crash."""

    def _mutating(self) -> None:
        hook = HOOK.get("at")
        if hook is not None:
            HOOK["count"] += 1
            if HOOK["count"] == hook:
                HOOK.pop("at")
                HOOK["run"]()

    @contextlib.contextmanager
    def open_write(self, key: str) -> Iterator[IO[bytes]]:
        self._mutating()
        with super().open_write(key) as stream:
            yield stream

    def delete_prefix(self, prefix: str) -> None:
        self._mutating()
        super().delete_prefix(prefix)


HOOK: dict[str, Any] = {}


def rows(partition: str, when: dt.datetime, count: int) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"video_id": partition.split(".")[0], "partition_key": partition,
             "frame_index": i, "extracted_at": when, "phash": 2**64 - 1 - i}
            for i in range(count)
        ],
        schema=index.SCHEMA,
    )  # fmt: skip


def visible(store: LocalFrameStore, connection: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    index.register_frames(connection, store)
    found = connection.sql("SELECT partition_key, extracted_at, frame_index FROM frames")
    return sorted(found.fetchall())


extraction = st.tuples(st.just("extract"), st.sampled_from(PARTITIONS), st.integers(1, 3))
drop = st.tuples(st.just("drop"), st.sampled_from(PARTITIONS), st.just(0))
during = st.one_of(st.none(), extraction, drop, st.just(("crash", "", 0)))
steps = st.lists(
    st.one_of(
        extraction,
        drop,
        st.tuples(st.just("compact"), st.integers(-1, 3), during, st.integers(1, 8)),
        st.tuples(st.just("wait"), st.integers(1, 30), st.just(0)),  # hours
    ),
    max_size=12,
)


@settings(max_examples=40)
@given(steps)
def test_no_row_lost_none_counted_twice(script: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as root:
        store = HookedStore(root=root)
        connection = duckdb.connect()
        clock = [START]
        truth: dict[str, pa.Table] = {}

        def tick() -> dt.datetime:
            clock[0] += dt.timedelta(minutes=7)
            return clock[0]

        def act(kind: str, partition: str, count: int) -> None:
            if kind == "extract":
                when = tick()
                truth[partition] = rows(partition, when, count)
                index.add_extraction(store, partition, truth[partition], when)
            elif kind == "drop":
                truth.pop(partition, None)
                index.drop_partitions(store, [partition], now=tick())
            else:
                raise Interrupted

        for step in script:
            if step[0] == "compact":
                _, days_back, other, after = step
                if other is not None:
                    HOOK.update(at=after, count=0, run=lambda other=other: act(*other))
                day = (clock[0] - dt.timedelta(days=days_back)).date()
                with contextlib.suppress(Interrupted):
                    index.compact(store, day, now=tick())
                HOOK.clear()
            elif step[0] == "wait":
                clock[0] += dt.timedelta(hours=step[1])
            else:
                act(*step)
            expected = sorted(
                (row["partition_key"], row["extracted_at"], row["frame_index"])
                for table in truth.values()
                for row in table.to_pylist()
            )
            assert visible(store, connection) == expected

        # a compaction of today with nothing in its way leaves no fresh file behind, and each
        # partition's rows in one daily file
        clock[0] += dt.timedelta(days=2)
        index.compact(store, clock[0].date(), now=clock[0])
        state = index.read_state(store)
        assert state.fresh == {}
        assert state.dropped == {}
        assert len(visible(store, connection)) == sum(t.num_rows for t in truth.values())
        homes: dict[str, set[str]] = {}
        for key in state.daily:
            for partition in index.read_rows(store, key, ["partition_key"])["partition_key"]:
                homes.setdefault(partition.as_py(), set()).add(key)
        assert all(len(keys) == 1 for keys in homes.values())
        assert set(homes) == set(truth)


def test_keys_name_partition_and_generation() -> None:
    when = dt.datetime(2026, 12, 1, 11, 52, 53, 123456, tzinfo=dt.UTC)
    key = layout.frame_index_key("vid.0123456789ab", when)
    assert key == "frame_index/fresh/vid.0123456789ab/20261201T115253123456Z/frames.parquet"
    assert layout.generation_of(key, layout.FRESH_INDEX_PREFIX) == ("vid.0123456789ab", when)
    assert layout.key_folder(key) == "frame_index/fresh/vid.0123456789ab/20261201T115253123456Z/"
