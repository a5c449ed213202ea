"""``frameforge query "SQL"``: DuckDB over every extracted frame, as the view ``frames``.

The store is the one the services use (the data dir's, or S3 with ``FRAMEFORGE_S3_RESULTS_BUCKET``);
its Parquet files are read through pyarrow's filesystems, so no DuckDB extension is
needed, and nothing of the orchestrator is loaded: the analysts' command starts without
Dagster. A table on a terminal; CSV, JSON lines or Parquet otherwise.

The analyst's SQL sees the frame index and nothing else: once ``frames`` is built, the
connection is locked down (``SANDBOX``) so that no statement reads or writes another file
(``read_text('/proc/self/environ')``, ``COPY ... TO``, ``ATTACH``), reaches the network,
installs or loads an extension, or changes those settings back. DuckDB itself reads only
the index's folder of a local store (``allowed_directories``); S3 objects are read by
pyarrow, which DuckDB does not see.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from frameforge_core import layout
from frameforge_core.settings import StoreSettings
from frameforge_pipeline.frame_index_store import ArrowStore, register_frames

# set when the connection is made: no extension is fetched or loaded behind the SQL's back
NO_EXTENSIONS: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
REFUSED = "frameforge query reads the frame index (the view frames) and nothing else"


class QueryError(Exception):
    """The SQL cannot run: its one-line reason (the caller exits 2)."""


def lock_down(connection: duckdb.DuckDBPyConnection, storage: ArrowStore) -> None:
    """No file but the frame index's, no network, no extension, for good."""
    if isinstance(storage.filesystem, pafs.LocalFileSystem):
        index = storage.path(layout.FRAME_INDEX_PREFIX)
        connection.execute("SET allowed_directories = $1", [[index]])
    connection.execute("SET enable_external_access = false")
    connection.execute("SET allow_community_extensions = false")
    connection.execute("SET lock_configuration = true")


def connect(storage: ArrowStore) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the view ``frames`` over ``storage``'s frame index.

    Raises FileNotFoundError, saying where it looked, when ``storage`` holds no frame
    index at all (not the data dir of a stack, or not the bucket of one)."""
    if not storage.list_keys(layout.FRAME_INDEX_PREFIX):
        raise FileNotFoundError(
            f"no frame index at {storage.where}/{layout.FRAME_INDEX_PREFIX} (set "
            "FRAMEFORGE_HOME to the data dir of `frameforge up`, or FRAMEFORGE_S3_RESULTS_BUCKET)"
        )
    connection = duckdb.connect(config=NO_EXTENSIONS)
    register_frames(connection, storage)
    lock_down(connection, storage)
    return connection


def run(sql: str, storage: ArrowStore | None = None) -> pa.Table | None:
    """The result of ``sql`` over ``frames``, or None for a statement with no result.
    Raises QueryError for SQL that DuckDB refuses, FileNotFoundError where there is no
    frame index."""
    connection = connect(storage or ArrowStore.from_settings(StoreSettings()))
    try:
        relation = connection.sql(sql)
        return None if relation is None else relation.to_arrow_table()
    except duckdb.PermissionException as error:
        raise QueryError(f"{_first_line(error)} ({REFUSED})") from None
    except duckdb.Error as error:
        raise QueryError(_first_line(error)) from None


def _first_line(error: duckdb.Error) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def write(table: pa.Table, fmt: str, stream: IO[bytes]) -> None:
    """``table`` as CSV (with a header), JSON lines (one object a row) or Parquet."""
    if fmt == "csv":
        pacsv.write_csv(table, stream)
    elif fmt == "json":
        for row in table.to_pylist():
            stream.write(json.dumps(row, default=_json_value).encode() + b"\n")
    elif fmt == "parquet":
        pq.write_table(table, stream, compression="zstd")
    else:
        raise ValueError(f"unknown format {fmt!r}")


def show(table: pa.Table, stream: IO[str]) -> None:
    """``table`` as DuckDB draws it (a box, long results cut in the middle)."""
    connection = duckdb.connect()
    connection.register("result", table)
    rendered = str(connection.sql("SELECT * FROM result"))
    stream.write(rendered if rendered.endswith("\n") else rendered + "\n")


def main(sql: str, fmt: str | None, output: Path | None) -> str | None:
    """Run ``sql`` and print or save its result; returns None, or the reason for exit 2.
    The format defaults to a table on a terminal and CSV otherwise."""
    fmt = fmt or ("table" if output is None and sys.stdout.isatty() else "csv")
    if fmt == "table" and output is not None:
        return "--format table is for a terminal: use csv, json or parquet with --output"
    if fmt == "parquet" and output is None and sys.stdout.isatty():
        return "Parquet is binary: use --output FILE, or pipe it"
    try:
        table = run(sql)
    except QueryError as error:
        return f"bad query: {error}"
    if table is None:
        return None
    if fmt == "table":
        show(table, sys.stdout)
    elif output is None:
        write(table, fmt, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        partial = output.with_name(f".{output.name}.partial")
        with partial.open("wb") as stream:
            write(table, fmt, stream)
        partial.replace(output)  # no half-written result left behind
    return None
