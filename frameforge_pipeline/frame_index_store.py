"""Where the frame index's rows live, and the one rule that reads them: no row lost, none
counted twice, whatever compaction, re-extraction and deletion do meanwhile.

Three kinds of objects (keys in ``frameforge_core.layout``):

- a **fresh file** per extraction of a partition (the ``frame_index`` asset), named by its
  generation, the time of the extraction;
- **daily files**, written by compaction alone (``frame_index_daily``), which moves the
  rows of fresh files into the file of a day and deletes the fresh files;
- a **drop marker** per dropped partition (``drop_partitions``: its video was deleted),
  kept until compaction has taken that partition's rows out of every daily file.

The rule (``frames``): a partition's rows are those of its newest fresh file if it has
one, else its rows in the daily files; a drop marker hides the rows extracted at or before
it. Compaction moves a partition into one day only after taking it out of every other day,
so once no fresh file of a partition is left, its rows are in one daily file at most.
Every step writes whole objects and deletes last, so a crash between steps leaves a state
that the rule still reads right, and the next compaction completes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from frameforge_core import layout
from frameforge_core.settings import StoreSettings

if TYPE_CHECKING:  # the stores are Dagster resources: `frameforge query` reads without them
    from frameforge_pipeline.resources import FrameStore

SCHEMA = pa.schema(
    [
        ("video_id", pa.string()),
        ("job_id", pa.string()),
        ("user_id", pa.string()),
        ("file_name", pa.string()),
        ("video_sha256", pa.string()),
        ("frame_index", pa.int32()),
        ("timestamp_ms", pa.float64()),
        ("keyframe", pa.bool_()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("bytes", pa.int64()),
        ("image_key", pa.string()),
        ("phash", pa.uint64()),  # DuckDB: UBIGINT, so bit_count(xor(a, b)) is a distance
        ("brightness", pa.float64()),
        ("sharpness", pa.float64()),
        ("extracted_at", pa.timestamp("us", tz="UTC")),
        ("engine_version", pa.string()),
        ("partition_key", pa.string()),  # the rendition: video x options
        ("codec", pa.string()),
    ]
)
"""The columns of ``frames``, in every fresh and daily file."""

# A marker is deleted only this long after its drop, once no run that started before the
# drop can still write a fresh file of its partition (a run's maximum is 2 h, dagster.yaml).
MARKER_KEEP = dt.timedelta(days=1)


@dataclass(frozen=True)
class IndexState:
    """What the store holds, from three listings: generations are sorted oldest first."""

    fresh: dict[str, list[tuple[dt.datetime, str]]] = field(default_factory=dict)
    dropped: dict[str, list[tuple[dt.datetime, str]]] = field(default_factory=dict)
    daily: list[str] = field(default_factory=list)

    def dropped_at(self, partition_key: str) -> dt.datetime | None:
        markers = self.dropped.get(partition_key)
        return markers[-1][0] if markers else None

    def visible_fresh(self) -> dict[str, str]:
        """Partition -> its newest fresh file, unless a drop came after it."""
        visible = {}
        for partition, generations in self.fresh.items():
            when, key = generations[-1]
            dropped_at = self.dropped_at(partition)
            if dropped_at is None or when > dropped_at:
                visible[partition] = key
        return visible

    def hidden_daily(self) -> dict[str, dt.datetime]:
        """Partition -> the time up to which its daily rows are not part of ``frames``:
        all of them for a partition with a visible fresh file, those up to its drop
        otherwise."""
        hidden = {partition: markers[-1][0] for partition, markers in self.dropped.items()}
        hidden.update(dict.fromkeys(self.visible_fresh(), dt.datetime.max.replace(tzinfo=dt.UTC)))
        return hidden


class Listing(Protocol):
    def list_keys(self, prefix: str) -> list[str]: ...


@dataclass(frozen=True)
class ArrowStore:
    """The store read through pyarrow alone, without Dagster: what ``frameforge query``
    reads the index with. ``root`` is the store's root in ``filesystem`` (a folder, or the
    results bucket), ``where`` the same as a person finds it."""

    filesystem: pafs.FileSystem
    root: str
    where: str

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> ArrowStore:
        """The data dir's store, or the results bucket with ``FRAMEFORGE_S3_RESULTS_BUCKET`` (the
        credentials from the usual AWS_* variables), as ``resources.storage_for`` chooses."""
        bucket = settings.s3_results_bucket
        if bucket is None:
            root = str(settings.store_root.resolve())
            return cls(pafs.LocalFileSystem(), root, root)
        s3 = pafs.S3FileSystem(
            region=settings.aws_default_region, endpoint_override=settings.s3_endpoint_url
        )
        return cls(s3, bucket, f"s3://{bucket}")

    def path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, sorted (an object still being written is none)."""
        selector = pafs.FileSelector(
            self.path(prefix.rstrip("/")), recursive=True, allow_not_found=True
        )
        found = self.filesystem.get_file_info(selector)
        return sorted(
            info.path.removeprefix(self.root + "/")
            for info in found
            if info.type == pafs.FileType.File and not info.base_name.endswith(".partial")
        )


def _generations(
    storage: Listing, prefix: str, under: str | None = None
) -> dict[str, list[tuple[dt.datetime, str]]]:
    found: dict[str, list[tuple[dt.datetime, str]]] = {}
    for key in storage.list_keys(under or prefix):
        partition, when = layout.generation_of(key, prefix)
        found.setdefault(partition, []).append((when, key))
    return {partition: sorted(entries) for partition, entries in found.items()}


def read_state(storage: Listing) -> IndexState:
    """The index as the store holds it now. Markers are listed first: a drop that lands
    between the listings has deleted its fresh files after writing its marker, so no fresh
    file seen here outlives a marker that was missed."""
    dropped = _generations(storage, layout.DROPPED_INDEX_PREFIX)
    fresh = _generations(storage, layout.FRESH_INDEX_PREFIX)
    daily = storage.list_keys(layout.DAILY_INDEX_PREFIX)
    return IndexState(fresh=fresh, dropped=dropped, daily=daily)


def fresh_generations(storage: FrameStore, partition_key: str) -> list[tuple[dt.datetime, str]]:
    """(time, key) of every fresh file of one partition, oldest first."""
    prefix = layout.FRESH_INDEX_PREFIX + layout.generation_prefix(partition_key)
    return _generations(storage, layout.FRESH_INDEX_PREFIX, prefix).get(partition_key, [])


def add_extraction(
    storage: FrameStore, partition_key: str, table: pa.Table, extracted_at: dt.datetime
) -> str:
    """Write the rows of a new extraction of a partition as its fresh file, then delete its
    earlier fresh files (the rule already ignores them); returns the new file's key."""
    key = layout.frame_index_key(partition_key, extracted_at)
    write_rows(storage, key, table)
    for when, older in fresh_generations(storage, partition_key):
        if when < extracted_at:
            storage.delete_prefix(layout.key_folder(older))
    return key


def drop_partitions(
    storage: FrameStore, partition_keys: Iterable[str], now: dt.datetime | None = None
) -> None:
    """Take partitions out of the index for good (their video was deleted): from now on
    ``frames`` shows none of their rows, and the next compaction deletes them. Call it
    before the video's rows in the app database go, so a failure is retried; running it
    again is harmless. Raises ValueError for an invalid partition key."""
    now = now or dt.datetime.now(dt.UTC)
    for partition in partition_keys:
        with storage.open_write(layout.dropped_index_key(partition, now)):
            pass  # the key is the record: partition and time
        for when, key in fresh_generations(storage, partition):
            if when <= now:
                storage.delete_prefix(layout.key_folder(key))


def arrow_filesystem(
    storage: FrameStore | ArrowStore,
) -> tuple[pafs.FileSystem, Callable[[str], str]]:
    """The store as a pyarrow filesystem (ranged reads: only the columns a query needs),
    and the path of a key in it. S3 credentials come from the usual AWS_* variables."""
    if isinstance(storage, ArrowStore):
        return storage.filesystem, storage.path
    from frameforge_pipeline.resources import LocalFrameStore

    if isinstance(storage, LocalFrameStore):
        root = storage.root.rstrip("/")
        return pafs.LocalFileSystem(), lambda key: f"{root}/{key}"
    from frameforge_pipeline.resources.s3_storage import S3FrameStore  # boto3: only with S3

    if isinstance(storage, S3FrameStore):
        s3 = pafs.S3FileSystem(region=storage.region, endpoint_override=storage.endpoint_url)
        return s3, lambda key: f"{storage.results_bucket}/{key}"
    raise TypeError(f"no pyarrow filesystem for {type(storage).__name__}")


def read_rows(storage: FrameStore, key: str, columns: list[str] | None = None) -> pa.Table:
    """One index file. Raises FileNotFoundError when it is gone."""
    filesystem, path = arrow_filesystem(storage)
    return pq.read_table(path(key), filesystem=filesystem, columns=columns, schema=SCHEMA)


def write_rows(storage: FrameStore, key: str, table: pa.Table) -> None:
    """One index file, whole or not at all; zstd, one row group per 128k rows."""
    with storage.open_write(key) as stream:
        pq.write_table(table.cast(SCHEMA), stream, compression="zstd", row_group_size=1 << 17)


def register_frames(
    connection: duckdb.DuckDBPyConnection, storage: FrameStore | ArrowStore, name: str = "frames"
) -> IndexState:
    """Create the view ``name`` (every frame, by the rule above) on ``connection``; returns
    the state it was built from (how many files a query reads)."""
    state = read_state(storage)
    filesystem, path = arrow_filesystem(storage)

    def source(view: str, keys: Iterable[str]) -> None:
        """DuckDB's own reader on local files (about twice as fast), pyarrow's on S3."""
        paths = [path(key) for key in keys]
        connection.execute(f"DROP VIEW IF EXISTS {view}")
        if paths and isinstance(filesystem, pafs.LocalFileSystem):
            listed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
            reader = f"read_parquet([{listed}], hive_partitioning = false)"
            connection.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM {reader}")
        else:
            found = ds.dataset(paths, schema=SCHEMA, format="parquet", filesystem=filesystem)
            connection.register(view, found)

    source(f"{name}_fresh", state.visible_fresh().values())
    source(f"{name}_daily", state.daily)
    hidden = state.hidden_daily()
    daily = f"SELECT * FROM {name}_daily"
    if hidden:
        through = pa.array(hidden.values(), pa.timestamp("us", tz="UTC"))
        connection.register(
            f"{name}_hidden", pa.table({"partition_key": list(hidden), "through": through})
        )
        daily = (
            f"SELECT d.* FROM {name}_daily d ANTI JOIN {name}_hidden h "
            "ON d.partition_key = h.partition_key AND d.extracted_at <= h.through"
        )
    connection.execute(
        f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_fresh UNION ALL {daily}"
    )
    return state


@dataclass(frozen=True)
class Compaction:
    """What one compaction did."""

    day: dt.date
    rows: int  # in the day's file now
    moved: int  # partitions moved out of fresh files
    rewritten: int  # other daily files a moved or dropped partition was taken out of
    markers_deleted: int


def _stale(table: pa.Table, moved: set[str], dropped: dict[str, dt.datetime]) -> pa.Array:
    """Rows of ``table`` that are no longer current: those of a partition moved again, or
    extracted at or before their partition's drop."""
    partition = table["partition_key"]
    mask = pc.is_in(partition, value_set=pa.array(sorted(moved), pa.string()))
    if dropped:
        through = pa.array(dropped.values(), pa.timestamp("us", tz="UTC"))
        limit = pc.take(through, pc.index_in(partition, value_set=pa.array(list(dropped))))
        mask = pc.or_(mask, pc.fill_null(pc.less_equal(table["extracted_at"], limit), False))
    return pc.fill_null(mask, False)


def compact(storage: FrameStore, day: dt.date, now: dt.datetime | None = None) -> Compaction:
    """Move the fresh files of extractions made on or before ``day`` (UTC) into the day's
    file, and apply drop markers. Only one compaction may run at a time (the asset's pool);
    extraction and ``drop_partitions`` may run meanwhile."""
    now = now or dt.datetime.now(dt.UTC)
    state = read_state(storage)
    moved: dict[str, pa.Table] = {}
    spent: list[str] = []  # fresh files to delete once their rows are in a daily file
    for partition, generations in state.fresh.items():
        dropped_at = state.dropped_at(partition)
        if dropped_at is not None:
            spent += [key for when, key in generations if when <= dropped_at]
        newest, key = generations[-1]
        if newest.date() > day or (dropped_at is not None and newest <= dropped_at):
            continue  # a later day's, or gone
        try:
            moved[partition] = read_rows(storage, key)
        except FileNotFoundError:
            continue  # a newer extraction (or a drop) replaced it since the listing
        spent += [key for _, key in generations]
    dropped = {partition: markers[-1][0] for partition, markers in state.dropped.items()}

    target = layout.daily_index_key(day)
    others = [key for key in state.daily if key != target]
    current = read_rows(storage, target) if target in state.daily else SCHEMA.empty_table()
    kept = current.filter(pc.invert(_stale(current, set(moved), dropped)))
    merged = pa.concat_tables([kept, *moved.values()]).combine_chunks()
    _replace(storage, target, merged, changed=bool(moved) or kept.num_rows < current.num_rows)

    rewritten = 0
    for key in others:
        keys = read_rows(storage, key, columns=["partition_key", "extracted_at"])
        if pc.any(_stale(keys, set(moved), dropped)).as_py():
            table = read_rows(storage, key)
            _replace(storage, key, table.filter(pc.invert(_stale(table, set(moved), dropped))))
            rewritten += 1

    for key in spent:
        storage.delete_prefix(layout.key_folder(key))
    old_markers = [
        key
        for markers in state.dropped.values()
        for when, key in markers
        if when < now - MARKER_KEEP
    ]
    for key in old_markers:
        storage.delete_prefix(layout.key_folder(key))
    return Compaction(day, merged.num_rows, len(moved), rewritten, len(old_markers))


def _replace(storage: FrameStore, key: str, table: pa.Table, changed: bool = True) -> None:
    """Write a daily file, or delete it when nothing is left in it."""
    if not changed:
        return
    if table.num_rows:
        write_rows(storage, key, table)
    else:
        storage.delete_prefix(layout.key_folder(key))
