"""The nightly backfill through a real dagster-daemon: after an engine change, the schedule's
tick launches one asset backfill, the backfill daemon runs it, and the partition is made
again with the current engine and its job's own options; the user is not told again."""

import json
import os

import dagster as dg
import pytest
import yaml
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus

from frameforge_core import layout
from frameforge_core.models import OutboxMessage, VideoJob
from frameforge_pipeline.engine.extractor import ENGINE_VERSION
from frameforge_pipeline.schedules import backfills
from tests.api.routes.test_jobs import create_job, run_queue
from tests.helpers import wait_until
from tests.integration.test_daemon_crash import kill, start_daemon
from tests.integration.test_dead_runs import _daemon_log, _instance_config
from tests.pipeline.test_backfills import older_engine

pytestmark = pytest.mark.slow
UNDER_WAY = {BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING, BulkActionStatus.FAILING}


def test_an_engine_change_is_re_extracted_by_one_nightly_backfill(
    tmp_path, client, alice, upload, make_clip, storage, database, instance, dagster_pg_url
):
    video_id = upload(alice, make_clip("cfr.mp4", seconds=5).path.read_bytes())
    chosen = {"fps": 2, "format": "png"}
    job_id = create_job(client, alice, video_id, options=chosen).json()["jobId"]
    run_queue(instance, older_engine(storage, database), database)  # made by the old engine
    with database.session() as session:
        job = session.query(VideoJob).filter_by(id=job_id).one()
        assert job.status == "completed"
        partition = job.partition_key

    home = tmp_path / "dagster"
    home.mkdir()
    config = yaml.safe_load(_instance_config(dagster_pg_url))
    config["run_monitoring"]["start_timeout_seconds"] = 180  # the packaged value: a loaded
    # machine starts runs slowly; the daemon's runs read what the first run's steps handed
    # on (source_video's facts, an input of the frames graph) where it stored them, as one
    # instance's runs do
    config["local_artifact_storage"] = {
        "module": "dagster._core.storage.root",
        "class": "LocalArtifactStorage",
        "config": {"base_dir": instance.root_directory},
    }
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "DAGSTER_HOME": str(home), "FRAMEFORGE_HOME": str(tmp_path),
           "DATABASE_URL": database.url, "FRAMEFORGE_BACKFILL_CRON": "* * * * *"}  # fmt: skip
    env.pop("RABBITMQ_URL", None)

    def log() -> str:
        return (home / "daemon.log").read_text(errors="replace")

    def nightly() -> list:
        return instance.get_backfills(
            filters=BulkActionsFilter(tags={backfills.KIND_TAG: "nightly"})
        )

    daemon = start_daemon(home, env)
    try:
        wait_until(nightly, 300, "the schedule launched no backfill", 1, _daemon_log(log))
        wait_until(
            lambda: nightly()[0].status not in UNDER_WAY,
            480,
            "the backfill did not end",
            1,
            _daemon_log(log),
        )
        assert nightly()[0].status == BulkActionStatus.COMPLETED_SUCCESS, _daemon_log(log)()
    finally:
        kill(daemon)

    made = [
        (b.backfill_id, b.title, b.status, b.tags, b.backfill_timestamp, b.asset_backfill_data)
        for b in nightly()
    ]
    assert len(made) == 1, made
    [backfill] = nightly()
    assert backfill.title.startswith("nightly backfill ")
    [run] = instance.get_runs(
        filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id})
    )
    assert run.tags["dagster/partition"] == partition
    assert run.tags[backfills.PRIORITY_TAG] == "-1"
    frames = instance.get_latest_materialization_event(dg.AssetKey("frames"))
    assert frames.run_id == run.run_id
    assert (
        frames.dagster_event.event_specific_data.materialization.tags["dagster/code_version"]
        == ENGINE_VERSION
    )
    with storage.open_read(layout.manifest_key(partition)) as stream:
        options = json.load(stream)["options"]
    assert (options["fps"], options["format"]) == (2, "png")  # the job's, not the defaults
    with database.session() as session:
        assert session.query(VideoJob).filter_by(id=job_id).one().status == "completed"
        told = session.query(OutboxMessage).filter(OutboxMessage.routing_key.like("%completed%"))
        assert told.count() == 1  # announced once, by its own run; not again
    done = client.get(f"/api/v1/videos/jobs/{job_id}", headers=alice).json()
    assert done["status"] == "completed"
    assert client.get(done["downloadUrl"]).status_code == 200
