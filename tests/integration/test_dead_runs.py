"""Runs that die with their process group (a pod kill, a cgroup OOM kill: daemon, code server
and run workers at once) do not hold the queue: after a restart, run monitoring fails them and
run retries start them again, and a cancel of a run whose worker cannot be reached succeeds
at once. The daemon runs with the packaged dagster.yaml (shorter monitoring timings only)."""

import os
import time
from collections.abc import Callable

import dagster as dg
import pytest
import yaml

from frameforge_core.settings import instance_template
from frameforge_pipeline.gateway import job_runs
from tests.api.routes.test_jobs import create_job
from tests.helpers import wait_until
from tests.integration.test_daemon_crash import kill, start_daemon

pytestmark = pytest.mark.slow

IN_PROGRESS = (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED)


def _instance_config(dagster_pg_url: str) -> str:
    config = yaml.safe_load(instance_template())
    config["storage"] = {"postgres": {"postgres_url": dagster_pg_url}}
    config["run_monitoring"] |= {"start_timeout_seconds": 15, "poll_interval_seconds": 1}
    return yaml.safe_dump(config)


def _run(instance: dg.DagsterInstance, job_id: str, attempt: int = 0) -> dg.DagsterRun | None:
    return job_runs.attempt_run(instance, job_id, attempt)


def _daemon_log(log) -> Callable[[], str]:
    return lambda: f"daemon log:\n{log()[-3000:]}"


def test_runs_killed_with_their_process_group_end_and_their_jobs_complete(
    tmp_path, client, alice, bob, upload, make_clip, database, instance, dagster_pg_url
):
    clip = make_clip("long-320x240.mp4", seconds=120).path.read_bytes()
    slow = {"fps": 30}  # 3,600 frames: seconds of work, long enough to be killed during
    kept = create_job(client, alice, upload(alice, clip), options=slow).json()["jobId"]
    cancelled = create_job(client, bob, upload(bob, clip), options=slow).json()["jobId"]
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(_instance_config(dagster_pg_url))
    # FRAMEFORGE_HOME=tmp_path: the runs' store is the API fixture's (tmp_path/store)
    env = {**os.environ, "DAGSTER_HOME": str(home), "FRAMEFORGE_HOME": str(tmp_path),
           "DATABASE_URL": database.url}  # fmt: skip
    env.pop("RABBITMQ_URL", None)

    def log() -> str:
        return (home / "daemon.log").read_text(errors="replace")

    def both_going() -> bool:
        runs = [_run(instance, job_id) for job_id in (kept, cancelled)]
        return all(run is not None and run.status == dg.DagsterRunStatus.STARTED for run in runs)

    daemon = start_daemon(home, env)
    try:
        wait_until(both_going, 120, "the two runs never started", 0.25, _daemon_log(log))
    finally:
        kill(daemon)  # daemon, code server and both run workers, as a pod kill does
    time.sleep(2)
    assert both_going()  # the bug: nothing will ever end them

    # a cancel while nothing can reach the run's worker: no 500, and no slot held
    answer = client.post(f"/api/v1/videos/jobs/{cancelled}/cancel", headers=bob)
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "cancelled"
    assert _run(instance, cancelled).status == dg.DagsterRunStatus.CANCELED

    daemon = start_daemon(home, env)
    try:
        wait_until(
            lambda: _run(instance, kept).status == dg.DagsterRunStatus.FAILURE,
            120, "run monitoring never failed the dead run", 0.25, _daemon_log(log),
        )  # fmt: skip
        wait_until(
            lambda: client.get(f"/api/v1/videos/jobs/{kept}", headers=alice).json()["status"]
            == "completed",
            240, "the dead run's job never completed", 0.25, _daemon_log(log),
        )  # fmt: skip
    finally:
        kill(daemon)
    runs = instance.get_runs(filters=dg.RunsFilter(tags={job_runs.JOB_ID_TAG: kept}))
    assert len(runs) == 2  # the dead run and Dagster's retry of it
    assert client.get(f"/api/v1/videos/jobs/{cancelled}", headers=bob).json()["status"] == (
        "cancelled"
    )
