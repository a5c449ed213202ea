"""The nightly backfill: which partitions it takes, the one backfill it makes, and the
options its runs extract with (the job's, never the defaults)."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from hypothesis import given
from hypothesis import strategies as st

from frameforge_core import layout
from frameforge_core.settings import OperationsSettings
from frameforge_pipeline.definitions import build_definitions
from frameforge_pipeline.gateway import job_runs
from frameforge_pipeline.jobs import extract_video
from frameforge_pipeline.loggers import RUN_LOGGERS
from frameforge_pipeline.partitions import VIDEOS
from frameforge_pipeline.schedules import backfills
from frameforge_pipeline.schedules.backfills import Work
from tests.pipeline.conftest import add_job, upload

TICK = "2026-12-01T02:00:00+00:00"
CAP = 500  # FRAMEFORGE_BACKFILL_MAX_PARTITIONS' default
FRAMES = dg.AssetKey("frames")


def graph(defs: dg.Definitions):
    return defs.resolve_asset_graph()


def older_engine(storage, database) -> dg.Definitions:
    """The code location as it was before the engine changed (another code version)."""
    defs = build_definitions({"storage": storage, "database": database})
    return dg.Definitions(
        assets=[
            asset.map_asset_specs(
                lambda spec: (
                    spec.replace_attributes(code_version="engine-before")
                    if spec.key == FRAMES
                    else spec
                )
            )
            for asset in defs.assets
        ],
        asset_checks=defs.asset_checks,
        jobs=[extract_video],
        resources=defs.resources,
        executor=dg.in_process_executor,
    )


def materialize(defs: dg.Definitions, instance, video_id: str, **config) -> None:
    instance.add_dynamic_partitions(VIDEOS, [video_id])
    result = defs.resolve_job_def("extract_video").execute_in_process(
        partition_key=video_id,
        instance=instance,
        run_config={"ops": {"frames": {"config": config}}} if config else None,
    )
    assert result.success


@pytest.fixture
def clip(make_clip):
    return make_clip("cfr-3s.mp4", seconds=3).path


def test_up_to_date_partitions_need_nothing(clip, defs, instance, storage, database):
    add_job(database, "vid-fresh", fps=2)
    upload(storage, "vid-fresh", clip)
    materialize(defs, instance, "vid-fresh", fps=2)
    partitions = backfills.backfillable_partitions(database)
    assert partitions == ["vid-fresh"]
    assert backfills.find_work(instance, graph(defs), partitions) == []
    assert (
        "up to date" in backfills.evaluate(instance, graph(defs), database, TICK, CAP).skip_message
    )


def test_an_engine_change_makes_frames_and_everything_after_stale(
    clip, defs, instance, storage, database
):
    add_job(database, "vid-old", fps=2)
    upload(storage, "vid-old", clip)
    materialize(older_engine(storage, database), instance, "vid-old", fps=2)

    [work] = backfills.find_work(instance, graph(defs), ["vid-old"])
    assert work.partition_key == "vid-old"
    assert not work.failed
    downstream = {"frames", "manifest", "frames_zip", "frame_index"}
    assert downstream <= {key.to_user_string() for key in work.assets}
    assert "source_video" not in {key.to_user_string() for key in work.assets}
    assert "frames: stale: its code version or an input changed since it was made" in work.reasons
    assert len(work.reasons) == 1  # the others follow from it

    rerun = defs.resolve_job_def("extract_video").execute_in_process(  # as the backfill's run
        partition_key="vid-old", instance=instance, asset_selection=list(work.assets)
    )
    assert rerun.success
    assert backfills.find_work(instance, graph(defs), ["vid-old"]) == []  # nothing left


def test_missing_and_unfinished_partitions(clip, defs, instance, storage, database):
    add_job(database, "vid-never")  # completed, yet nothing was ever materialized
    add_job(database, "vid-queued", status="queued")  # the user's job is still to come
    add_job(database, "vid-failed", status="failed")  # the user's to retry
    assert backfills.backfillable_partitions(database) == ["vid-never"]
    [work] = backfills.find_work(instance, graph(defs), ["vid-never"])
    assert {key.to_user_string() for key in work.assets} >= {"source_video", "frames_zip"}
    assert "source_video: missing" in work.reasons


def test_one_backfill_per_night_made_once(clip, defs, instance, storage, database):
    for video_id in ("vid-a", "vid-b"):
        add_job(database, video_id, fps=2)
        upload(storage, video_id, clip)
        materialize(older_engine(storage, database), instance, video_id, fps=2)

    said = backfills.evaluate(instance, graph(defs), database, TICK, CAP).skip_message
    [backfill] = instance.get_backfills()
    assert f"backfill {backfill.backfill_id} launched for 2 partitions" in said
    assert backfill.status == BulkActionStatus.REQUESTED
    assert backfill.title == "nightly backfill 2026-12-01: 2 partitions"
    assert backfill.tags[backfills.PRIORITY_TAG] == "-1"
    subset = backfill.asset_backfill_data.target_subset
    assert subset.get_partitions_subset(FRAMES).get_partition_keys() == {"vid-a", "vid-b"}
    # only the runs' logger: each run finds its partition's options itself
    assert backfill.run_config == RUN_LOGGERS

    again = backfills.evaluate(instance, graph(defs), database, TICK, CAP).skip_message
    assert "was made by this tick" in again
    next_night = backfills.evaluate(
        instance, graph(defs), database, "2026-12-02T02:00:00+00:00", CAP
    )
    assert "of an earlier night is going" in next_night.skip_message
    assert len(instance.get_backfills()) == 1


def test_the_cap_leaves_the_rest_for_the_next_night(clip, defs, instance, storage, database):
    for video_id in ("vid-1", "vid-2"):
        add_job(database, video_id)
    said = backfills.evaluate(instance, graph(defs), database, TICK, cap=1).skip_message
    assert "for 1 partitions; 1 more past the cap of 1 wait for the next night" in said
    [backfill] = instance.get_backfills()
    assert backfill.asset_backfill_data.target_subset.get_partitions_subset(
        FRAMES
    ).get_partition_keys() == {"vid-1"}  # the oldest job first


def test_the_schedule_takes_its_cron_and_cap_from_the_operations_settings(
    clip, instance, storage, database
):
    operations = OperationsSettings(backfill_cron="30 3 * * 1-5", backfill_max_partitions=1)
    defs = build_definitions({"storage": storage, "database": database, "operations": operations})
    schedule = defs.resolve_schedule_def("nightly_backfill")
    assert schedule.cron_schedule == "30 3 * * 1-5"
    for video_id in ("vid-1", "vid-2"):
        add_job(database, video_id)
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=dt.datetime(2026, 12, 1, 3, 30, tzinfo=dt.UTC),
        repository_def=defs.get_repository_def(),
        resources={"database": database, "operations": operations},
    )
    said = schedule.evaluate_tick(context).skip_message
    assert "for 1 partitions; 1 more past the cap of 1 wait for the next night" in said


def test_a_run_without_config_extracts_with_the_jobs_options(
    clip, defs, instance, storage, database
):
    """What a backfill run does: no run config, a partition whose job chose fps 2 and PNG."""
    add_job(database, "vid-opts", fps=2, format="png")
    upload(storage, "vid-opts", clip)
    materialize(defs, instance, "vid-opts")  # as a backfill run: no config at all
    with storage.open_read(layout.manifest_key("vid-opts")) as stream:
        manifest = json.load(stream)
    assert (manifest["options"]["fps"], manifest["options"]["format"]) == (2, "png")
    assert len(manifest["frames"]) == 6

    materialize(defs, instance, "vid-opts", fps=1)  # by hand in the UI: the job's still win
    with storage.open_read(layout.manifest_key("vid-opts")) as stream:
        assert json.load(stream)["options"]["fps"] == 2


def test_the_partition_metadata_names_its_job_and_shows_the_first_frame(
    clip, defs, instance, storage, database
):
    job_id, _ = add_job(database, "vid-meta", fps=2)
    upload(storage, "vid-meta", clip)
    materialize(defs, instance, "vid-meta")
    frames = instance.get_latest_materialization_event(FRAMES).asset_materialization.metadata
    assert frames["job_id"].value == job_id
    assert frames["file_name"].value == "vid-meta holiday.mp4"
    [run] = instance.get_runs()
    assert run.tags[job_runs.FILE_NAME_TAG] == "vid-meta holiday.mp4"
    facts = instance.get_latest_materialization_event(dg.AssetKey("source_video"))
    assert "file_name" not in facts.asset_materialization.metadata  # a user's video facts
    assert frames["speed"].value > 0
    preview = frames["first_frame"].value
    assert preview.startswith("![first frame](data:image/jpeg;base64,")
    assert len(preview) < 20_000  # a few kilobytes in the event log


@given(
    failed=st.lists(st.booleans(), max_size=30),
    cap=st.integers(min_value=1, max_value=40),
)
def test_tonight_takes_failed_partitions_last_and_never_more_than_the_cap(failed, cap):
    work = [Work(f"p{i}", frozenset({FRAMES}), (), bad) for i, bad in enumerate(failed)]
    chosen = backfills.tonight(work, cap)
    assert len(chosen) == min(cap, len(work))
    healthy = [item for item in work if not item.failed]
    assert chosen[: len(healthy)] == healthy[:cap]  # in their order, before any failed one
    assert len({item.partition_key for item in chosen}) == len(chosen)


def test_what_an_operator_sees_of_the_definitions():
    from frameforge_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, key
        assert graph.get(key).owners, key
    schedule = defs.resolve_schedule_def("nightly_backfill")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_a_cron_that_is_not_one_is_refused_at_start(monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv("FRAMEFORGE_BACKFILL_CRON", "every night")
    with pytest.raises(ValidationError, match="FRAMEFORGE_BACKFILL_CRON is not a cron"):
        OperationsSettings()
    monkeypatch.setenv("FRAMEFORGE_BACKFILL_CRON", "30 3 * * 1-5")
    assert OperationsSettings().backfill_cron == "30 3 * * 1-5"
