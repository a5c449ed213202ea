"""frame_index as analysts see it: one row per frame with its video's owner and picture
stats, fresh files compacted into one file a day by frame_index_daily and its schedule."""

import datetime as dt
import hashlib

import dagster as dg
import duckdb
import pytest

from frameforge_core import layout
from frameforge_pipeline import frame_index_store as index
from frameforge_pipeline.assets.frame_index_daily import frame_index_daily
from frameforge_pipeline.engine.extractor import ENGINE_VERSION
from tests.pipeline.conftest import add_job

COLUMNS = [
    ("video_id", "VARCHAR"), ("job_id", "VARCHAR"), ("user_id", "VARCHAR"),
    ("file_name", "VARCHAR"), ("video_sha256", "VARCHAR"), ("frame_index", "INTEGER"),
    ("timestamp_ms", "DOUBLE"), ("keyframe", "BOOLEAN"), ("width", "INTEGER"),
    ("height", "INTEGER"), ("bytes", "BIGINT"), ("image_key", "VARCHAR"),
    ("phash", "UBIGINT"), ("brightness", "DOUBLE"), ("sharpness", "DOUBLE"),
    ("extracted_at", "TIMESTAMP WITH TIME ZONE"), ("engine_version", "VARCHAR"),
    ("partition_key", "VARCHAR"), ("codec", "VARCHAR"),
]  # fmt: skip


def frames(storage, sql: str) -> list[tuple]:
    connection = duckdb.connect()
    index.register_frames(connection, storage)
    return connection.sql(sql).fetchall()


def test_each_frame_has_its_owner_source_and_picture_stats(make_clip, run_video, storage, database):
    clip = make_clip("cfr.mp4", seconds=5)
    job_id, user_id = add_job(database, "vid-1", "Holiday (1).mp4")
    assert run_video("vid-1", clip.path).success

    connection = duckdb.connect()
    index.register_frames(connection, storage)
    assert connection.sql("DESCRIBE frames").fetchall() == [
        (name, kind, "YES", None, None, None) for name, kind in COLUMNS
    ]
    rows = connection.sql("SELECT * FROM frames ORDER BY frame_index").to_arrow_table().to_pylist()
    assert [row["timestamp_ms"] for row in rows] == [0, 1000, 2000, 3000, 4000]
    first = rows[0]
    sha256 = hashlib.sha256(clip.path.read_bytes()).hexdigest()
    owner = ("video_id", "job_id", "user_id", "file_name", "video_sha256")
    assert {k: first[k] for k in owner} == {
        "video_id": "vid-1", "job_id": job_id, "user_id": user_id,
        "file_name": "Holiday (1).mp4", "video_sha256": sha256,
    }  # fmt: skip
    assert [row["keyframe"] for row in rows] == [True] * 5  # a keyframe every 30 frames: 1 s
    assert (first["width"], first["height"], first["codec"]) == (320, 240, "h264")
    assert first["engine_version"] == ENGINE_VERSION
    assert first["image_key"] == "frames/vid-1/frame_000000.jpg"
    assert storage.size(first["image_key"]) == first["bytes"]
    assert all(0 <= row["brightness"] <= 1 and row["sharpness"] > 0 for row in rows)
    assert 0 < first["phash"] < 2**64
    # the same picture layout (barcode over blue): near duplicates by pHash distance
    [(closest,)] = connection.sql(
        "SELECT min(bit_count(xor(a.phash, b.phash))) FROM frames a JOIN frames b "
        "ON a.frame_index < b.frame_index"
    ).fetchall()
    assert closest < 32


def test_a_video_without_a_job_still_has_its_rows(make_clip, run_video, storage):
    assert run_video("by-hand", make_clip("cfr.mp4", seconds=5).path).success
    assert frames(storage, "SELECT DISTINCT job_id, user_id, file_name FROM frames") == [
        (None, None, None)
    ]
    [(digest,)] = frames(storage, "SELECT DISTINCT video_sha256 FROM frames")
    assert len(digest) == 64


def test_a_rerun_after_compaction_replaces_the_rows(make_clip, run_video, storage):
    clip = make_clip("cfr.mp4", seconds=5)
    assert run_video("vid-a", clip.path).success
    assert run_video("vid-b", make_clip("short.mp4", seconds=0.4).path, fps=2).success
    today = dt.datetime.now(dt.UTC).date()
    assert index.compact(storage, today).moved == 2
    assert run_video("vid-a", None, fps=2).success  # re-extracted after its day was compacted
    count = "SELECT video_id, count(*) FROM frames GROUP BY ALL ORDER BY 1"
    assert frames(storage, count) == [("vid-a", 10), ("vid-b", 1)]
    keyframes = "SELECT keyframe FROM frames WHERE video_id = 'vid-a' ORDER BY frame_index"
    assert [k for (k,) in frames(storage, keyframes)] == [True, False] * 5  # GOP: 1 s
    index.compact(storage, today)
    assert frames(storage, count) == [("vid-a", 10), ("vid-b", 1)]
    assert index.read_state(storage).fresh == {}
    assert storage.list_keys(layout.FRAME_INDEX_PREFIX) == [layout.daily_index_key(today)]

    index.drop_partitions(storage, ["vid-b"])  # its video was deleted
    assert frames(storage, count) == [("vid-a", 10)]


def test_the_daily_asset_moves_the_fresh_rows_of_its_day(storage):
    day = dt.date(2026, 11, 30)
    when = dt.datetime(2026, 11, 30, 21, 5, tzinfo=dt.UTC)
    table = index.SCHEMA.empty_table().from_pylist(
        [{"video_id": "v", "partition_key": "v", "frame_index": i, "extracted_at": when}
         for i in range(3)],
        schema=index.SCHEMA,
    )  # fmt: skip
    index.add_extraction(storage, "v", table, when)
    result = dg.materialize(
        [frame_index_daily], partition_key=day.isoformat(), resources={"storage": storage}
    )
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert (metadata["rows"].value, metadata["partitions_moved"].value) == (3, 1)
    assert metadata["fresh_files_left"].value == 0
    assert storage.list_keys(layout.FRAME_INDEX_PREFIX) == [layout.daily_index_key(day)]


@pytest.mark.parametrize(
    ("tick", "day"),
    [("2026-12-02T00:30:00+00:00", "2026-12-01"), ("2027-01-01T00:30:00+00:00", "2026-12-31")],
)
def test_the_schedule_compacts_the_day_that_just_ended(defs, instance, tick, day):
    schedule = defs.resolve_schedule_def("frame_index_compaction")
    assert schedule.cron_schedule == "30 0 * * *"
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=dt.datetime.fromisoformat(tick),
        repository_def=defs.get_repository_def(),
    )
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == day
