"""`frameforge query` as an analyst meets it: formats, files, a table on a terminal, one
line and exit 2 for bad SQL, and the same view over the S3 store."""

import datetime as dt
import io
import json
import os
import pty
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from frameforge.cli import QUERY_FORMATS, main
from frameforge.query import run, write
from frameforge_pipeline import frame_index_store as index

WHEN = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)


def rows(partition: str, count: int, when: dt.datetime = WHEN) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"video_id": partition, "partition_key": partition, "frame_index": i,
             "timestamp_ms": i * 1000.0, "brightness": i / 10, "extracted_at": when,
             "phash": 2**64 - 1 - i}
            for i in range(count)
        ],
        schema=index.SCHEMA,
    )  # fmt: skip


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A data dir whose store holds two videos: one compacted, one fresh."""
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path))
    for name in ("FRAMEFORGE_S3_RESULTS_BUCKET", "S3_RESULTS_BUCKET"):  # either name sets it
        monkeypatch.delenv(name, raising=False)
    from frameforge_pipeline.resources import LocalFrameStore

    store = LocalFrameStore(root=str(tmp_path / "store"))
    index.add_extraction(store, "old", rows("old", 3), WHEN)
    index.compact(store, WHEN.date())
    index.add_extraction(store, "new", rows("new", 2), WHEN + dt.timedelta(days=1))
    return tmp_path


COUNT = "SELECT video_id, count(*) AS frames FROM frames GROUP BY ALL ORDER BY 1"


def test_csv_when_piped(home, capsys):
    assert main(["query", COUNT]) == 0
    assert capsys.readouterr().out.splitlines() == ['"video_id","frames"', '"new",2', '"old",3']


def test_json_lines_keep_64_bit_hashes_and_times(home, capsys):
    sql = "SELECT phash, extracted_at FROM frames WHERE video_id = 'old' AND frame_index = 0"
    assert main(["query", sql, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "phash": 2**64 - 1, "extracted_at": "2026-11-30T09:15:00+00:00"
    }  # fmt: skip


def test_parquet_into_a_file(home, tmp_path, capsys):
    out = tmp_path / "frames.parquet"
    assert main(["query", "SELECT * FROM frames", "--format", "parquet", "-o", str(out)]) == 0
    table = pq.read_table(out)
    assert table.num_rows == 5
    assert table.schema.field("phash").type == pa.uint64()
    assert capsys.readouterr() == ("", "")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELEC 1", 'bad query: Parser Error: syntax error at or near "SELEC"'),
        ("SELECT nope FROM frames", "bad query: Binder Error: Referenced column"),
        ("SELECT * FROM videos", "bad query: Catalog Error: Table with name videos does not"),
    ],
)
def test_bad_sql_is_one_line_and_exit_2(home, capsys, sql, reason):
    assert main(["query", sql]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"frameforge: {reason}")
    assert err.count("\n") == 1


def test_a_table_on_a_terminal(home):
    """Run as a user would, with stdout on a pseudo-terminal."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100"}
    process = subprocess.run(
        [sys.executable, "-m", "frameforge.cli", "query", COUNT],
        stdout=follower, stderr=subprocess.PIPE, env=env, timeout=120, check=False,
    )  # fmt: skip
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.returncode == 0, process.stderr
    text = shown.decode()
    assert "│ video_id │ frames │" in text
    assert "│ old      │      3 │" in text


def test_the_same_view_over_s3(s3_store, monkeypatch):
    index.add_extraction(s3_store, "v1", rows("v1", 4), WHEN)
    index.compact(s3_store, WHEN.date())
    index.add_extraction(s3_store, "v2", rows("v2", 2), WHEN + dt.timedelta(hours=1))
    later = WHEN + dt.timedelta(hours=2)
    index.add_extraction(s3_store, "v1", rows("v1", 1, later), later)  # re-extracted
    monkeypatch.setenv("FRAMEFORGE_S3_RESULTS_BUCKET", s3_store.results_bucket)  # as in services
    monkeypatch.setenv("FRAMEFORGE_S3_ENDPOINT_URL", s3_store.endpoint_url)
    result = run(COUNT)
    assert result is not None
    assert result.to_pylist() == [{"video_id": "v1", "frames": 1}, {"video_id": "v2", "frames": 2}]


SANDBOXED = "(frameforge query reads the frame index (the view frames) and nothing else)"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_text('/proc/self/environ')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_blob('{home}/store/frames/old/frame_000000.jpg')",
        "SELECT * FROM read_text('{home}/store/frame_index/../../secret.txt')",
        "SELECT * FROM glob('/etc/*')",
        "COPY (SELECT 1) TO '{home}/out.csv'",
        "ATTACH '{home}/other.duckdb'",
        "INSTALL httpfs",
        "SELECT * FROM 'https://example.com/frames.parquet'",
    ],
    ids=["environ", "passwd", "frames", "dotdot", "glob", "copy", "attach", "install", "http"],
)
def test_the_sql_sees_the_frame_index_and_nothing_else(home, capsys, sql):
    (home / "secret.txt").write_text("AWS_SECRET_ACCESS_KEY=s3cr3t")
    (home / "store" / "frames" / "old").mkdir(parents=True)
    (home / "store" / "frames" / "old" / "frame_000000.jpg").write_bytes(b"jpeg")
    assert main(["query", sql.format(home=home)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("frameforge: bad query: Permission Error: ")
    assert err.rstrip().endswith(SANDBOXED)
    assert "s3cr3t" not in err
    assert not (home / "out.csv").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "SET enable_external_access = true",
        "SET allowed_directories = ['/']",
        "SET autoload_known_extensions = true",
        "LOAD httpfs",
    ],
)
def test_the_lock_cannot_be_undone(home, capsys, sql):
    assert main(["query", sql]) == 2
    err = capsys.readouterr().err
    assert err.startswith("frameforge: bad query: ")
    assert "locked" in err or "disabled" in err
    assert main(["query", "SELECT * FROM read_text('/proc/self/environ')"]) == 2


def test_the_sql_on_s3_reads_no_file_either(s3_store, monkeypatch, capsys):
    index.add_extraction(s3_store, "v1", rows("v1", 4), WHEN)
    monkeypatch.setenv("FRAMEFORGE_S3_RESULTS_BUCKET", s3_store.results_bucket)
    monkeypatch.setenv("FRAMEFORGE_S3_ENDPOINT_URL", s3_store.endpoint_url)
    assert run("SELECT count(*) AS n FROM frames").to_pylist() == [{"n": 4}]
    bucket = f"s3://{s3_store.results_bucket}"
    for sql in (
        "SELECT * FROM read_text('/proc/self/environ')",
        f"SELECT * FROM read_parquet('{bucket}/frame_index/**/*.parquet')",
    ):
        assert main(["query", sql]) == 2
        assert capsys.readouterr().err.rstrip().endswith(SANDBOXED)


def test_where_there_is_no_frame_index_it_says_so_and_where_it_looked(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)  # no data dir here: ./.frameforge does not exist
    monkeypatch.delenv("FRAMEFORGE_HOME", raising=False)
    for name in ("FRAMEFORGE_S3_RESULTS_BUCKET", "S3_RESULTS_BUCKET"):  # either name sets it
        monkeypatch.delenv(name, raising=False)
    assert main(["query", "SELECT count(*) FROM frames"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"frameforge: no frame index at {tmp_path.resolve()}/.frameforge/store/frame_index/ "
        "(set FRAMEFORGE_HOME to the data dir of `frameforge up`, or "
        "FRAMEFORGE_S3_RESULTS_BUCKET)\n"
    )


def test_the_analysts_command_does_not_load_the_orchestrator():
    """Start-up: Dagster alone took 1-2 s of it (measured in the README)."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, frameforge.cli, frameforge.query; "
         "print(sorted(m for m in ('dagster', 'boto3') if m in sys.modules))"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert loaded.strip() == "[]"


@pytest.mark.parametrize("fmt", [f for f in QUERY_FORMATS if f != "table"])
def test_every_format_the_command_offers_is_written(fmt):
    """``--format``'s choices (frameforge.cli) are the formats frameforge.query writes."""
    stream = io.BytesIO()
    write(pa.table({"frame": [1, 2]}), fmt, stream)
    assert stream.getvalue()
