"""The whole asset graph for one partition, in a temporary Dagster instance."""

import json
import zipfile

import dagster as dg
import duckdb
import pytest

from frameforge_core import layout
from frameforge_pipeline import frame_index_store
from frameforge_pipeline.engine.archive import zip_problems
from frameforge_pipeline.gateway import job_runs


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """What the API and the UI show for the failed step."""
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return job_runs.failure_reason(failure)


def partial_files(storage) -> list[str]:
    from pathlib import Path

    return [p.name for p in Path(storage.root).rglob("*.partial")]


def test_materializes_every_asset_and_passes_every_check(make_clip, run_video, storage, instance):
    clip = make_clip("cfr.mp4", seconds=5)
    result = run_video("vid-1", clip.path)
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {
        "source_video", "frames", "storyboard", "manifest", "frames_zip", "frame_index"
    }  # fmt: skip
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {
        "frame_count_matches_duration": True,
        "timestamps_strictly_increasing": True,
        "zip_matches_manifest": True,
    }

    facts = instance.get_latest_materialization_event(
        dg.AssetKey("source_video")
    ).asset_materialization.metadata
    assert facts["codec"].value == "h264"
    assert facts["duration"].value == 5.0

    with storage.open_read(layout.zip_key("vid-1")) as stream:
        assert zip_problems(stream) == []
    with storage.local_path(layout.zip_key("vid-1")) as path, zipfile.ZipFile(path) as archive:
        assert len(archive.namelist()) == 6
    with storage.open_read(layout.manifest_key("vid-1")) as stream:
        manifest = json.load(stream)
    assert manifest["video_id"] == "vid-1"
    assert [f["timestamp_ms"] for f in manifest["frames"]] == [0, 1000, 2000, 3000, 4000]
    assert partial_files(storage) == []


def test_a_run_may_hold_its_slot_for_a_time_derived_from_the_video(make_clip, run_video, instance):
    result = run_video("vid-limit", make_clip("cfr.mp4", seconds=5).path)
    run = instance.get_run_by_id(result.run_id)
    assert run.tags["dagster/max_runtime"] == "620"  # 600 s + 4 s per second of video


def test_frame_index_is_queryable_with_duckdb(make_clip, run_video, storage):
    assert run_video("vid-a", make_clip("cfr.mp4", seconds=5).path).success
    assert run_video("vid-b", make_clip("short.mp4", seconds=0.4).path, fps=2).success
    connection = duckdb.connect()
    frame_index_store.register_frames(connection, storage)  # the view `frames`
    rows = connection.sql(
        """
        SELECT video_id, count(*), max(timestamp_ms), min(width)
        FROM frames GROUP BY video_id ORDER BY video_id
        """
    ).fetchall()
    assert rows == [("vid-a", 5, 4000.0, 320), ("vid-b", 1, 0.0, 320)]


def test_rerun_with_other_options_replaces_frames_and_rows(make_clip, run_video, storage):
    clip = make_clip("cfr.mp4", seconds=5)
    assert run_video("vid-2", clip.path, fps=2).success
    assert len(storage.list_keys(layout.frames_prefix("vid-2"))) == 10
    assert run_video("vid-2", None, fps=1, format="png").success
    assert storage.list_keys(layout.frames_prefix("vid-2")) == [
        f"frames/vid-2/frame_{i:06d}.png" for i in range(5)
    ]
    connection = duckdb.connect()
    frame_index_store.register_frames(connection, storage)
    count = connection.sql("SELECT count(*) FROM frames WHERE video_id = 'vid-2'").fetchall()
    assert count == [(5,)]


def test_rejected_video_fails_with_reason_and_harms_nothing(
    tmp_path, make_clip, run_video, storage
):
    assert run_video("good", make_clip("cfr.mp4", seconds=5).path).success
    good_zip = storage.list_keys("results/good/")

    junk = tmp_path / "upload.mp4"
    junk.write_bytes(b"this is not a video\n" * 1000)
    result = run_video("bad", junk)
    assert not result.success
    assert failure_message(result) == (
        "video rejected: not a video file: no known media container was found"
    )
    assert storage.list_keys("frames/bad/") == storage.list_keys("results/bad/") == []
    assert storage.list_keys("results/good/") == good_zip
    assert storage.list_keys(layout.upload_prefix("bad")) == ["uploads/bad/upload.mp4"]


def test_a_rejected_video_is_told_from_an_outage_by_its_run_tag(
    tmp_path, undecodable_video, run_video, instance, make_clip, storage, monkeypatch
):
    """What the operator filters the Runs page by: frameforge/rejected names the refusal."""
    garbled = tmp_path / "garbled.mp4"
    garbled.write_bytes(undecodable_video)
    rejected = run_video("bad-frames", garbled)
    assert failure_message(rejected).startswith("video rejected: the video stream cannot be")
    tags = instance.get_run_by_id(rejected.run_id).tags
    assert tags[job_runs.REJECTED_TAG] == "CorruptVideoError"

    def unreadable(self, key):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(type(storage), "local_path", unreadable)  # an outage, not the video
    broken = run_video("good-video", make_clip("cfr.mp4", seconds=5).path)
    assert not broken.success
    assert job_runs.REJECTED_TAG not in instance.get_run_by_id(broken.run_id).tags


def test_invalid_options_fail_before_touching_the_store(make_clip, run_video, storage):
    result = run_video("vid-3", make_clip("cfr.mp4", seconds=5).path, fps=0, quality=101)
    assert not result.success
    assert failure_message(result) == (
        "invalid options: fps: Input should be greater than or equal to 0.001; "
        "quality: Input should be less than or equal to 100"
    )


def test_missing_upload_fails_clearly(run_video):
    result = run_video("ghost", None)
    assert not result.success
    assert failure_message(result) == "expected one uploaded file for video ghost, found nothing"


def test_failure_mid_extraction_leaves_no_frames_or_partials(
    make_clip, run_video, storage, monkeypatch
):
    writes = {"n": 0}
    real_open_write = type(storage).open_write

    def flaky_open_write(self, key):
        if key.startswith("frames/"):
            writes["n"] += 1
            if writes["n"] == 3:
                raise OSError(28, "No space left on device")
        return real_open_write(self, key)

    monkeypatch.setattr(type(storage), "open_write", flaky_open_write)
    result = run_video("vid-4", make_clip("cfr.mp4", seconds=5).path)
    assert not result.success
    assert failure_message(result) == "OSError: [Errno 28] No space left on device"
    assert storage.list_keys("frames/vid-4/") == []
    assert partial_files(storage) == []


@pytest.mark.parametrize("video_id", ["../etc", "a/b", "", "x" * 65])
def test_unsafe_video_ids_are_refused(video_id):
    with pytest.raises(ValueError, match="invalid partition key"):
        layout.zip_key(video_id)


def test_zip_check_fails_when_the_stored_zip_disagrees(
    make_clip, run_video, defs, instance, storage
):
    from frameforge_pipeline.assets.checks import zip_matches_manifest

    assert run_video("vid-5", make_clip("cfr.mp4", seconds=5).path).success
    with storage.local_path(layout.zip_key("vid-5")) as path, zipfile.ZipFile(path, "a") as archive:
        archive.writestr("stray.jpg", b"not ours")
    only_the_check = defs.resolve_job_def("extract_video").get_subset(
        asset_selection=set(), asset_check_selection={zip_matches_manifest.check_key}
    )
    result = only_the_check.execute_in_process(
        partition_key="vid-5", instance=instance, raise_on_error=False
    )
    assert not result.success  # blocking: the run fails, with the reason
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.metadata["problems"].value == [
        "stray.jpg is in the ZIP but not in the manifest"
    ]
