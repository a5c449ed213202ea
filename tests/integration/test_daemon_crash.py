"""A real dagster-daemon killed (SIGKILL) while its sensor holds job messages: after a
restart every job has exactly one run and the queue is empty. Runs stay queued
(``max_concurrent_runs: 0``): what is checked is the hand-over from RabbitMQ to Dagster."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from frameforge.stack import workspace_file
from frameforge_api.core.config import Settings
from frameforge_core import messaging, outbox
from frameforge_core.messaging import Publisher
from frameforge_core.models import VideoJob
from frameforge_pipeline.gateway import job_runs
from tests.api.routes.test_jobs import create_job
from tests.integration.conftest import waiting

pytestmark = pytest.mark.slow

JOBS = 20
DAEMON = Path(sys.executable).with_name("dagster-daemon")


@pytest.fixture
def settings() -> Settings:
    """One user with JOBS unfinished jobs at once: past the default quota of 5."""
    return Settings(JWT_SECRET="d" * 40, quota_concurrent_jobs=JOBS)


def start_daemon(home: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [DAEMON, "run", "-w", str(workspace_file())],
        cwd=home,
        env=env,
        start_new_session=True,  # its code server is in its process group: killed with it
        stdout=subprocess.DEVNULL,
        stderr=(home / "daemon.log").open("ab"),
    )


def kill(daemon: subprocess.Popen[bytes]) -> None:
    os.killpg(daemon.pid, signal.SIGKILL)
    daemon.wait()


def test_killing_the_daemon_mid_tick_loses_no_job_and_duplicates_no_run(
    tmp_path,
    client,
    alice,
    upload,
    database,
    instance,
    dagster_pg_url,
    rabbitmq_url,
    undecodable_video,
):
    job_ids = [
        create_job(client, alice, upload(alice, undecodable_video), headers={}).json()["jobId"]
        for _ in range(JOBS)
    ]
    publisher = Publisher(rabbitmq_url)
    assert outbox.relay(database.session, publisher.send) == JOBS + 1  # + alice's sign-up mail
    publisher.close()
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "telemetry: {enabled: false}\n"
        f"storage: {{postgres: {{postgres_url: '{dagster_pg_url}'}}}}\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n"
        "  class: QueuedRunCoordinator\n  config: {max_concurrent_runs: 0}\n"
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "FRAMEFORGE_HOME": str(tmp_path / "ff"),
        "DATABASE_URL": database.url,
        "RABBITMQ_URL": rabbitmq_url,
    }

    daemon = start_daemon(home, env)
    deadline = time.monotonic() + 120
    while waiting(rabbitmq_url, messaging.JOBS_QUEUE) == JOBS:  # until a tick takes them
        assert daemon.poll() is None, (home / "daemon.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "the sensor never took a message"
        time.sleep(0.005)
    kill(daemon)  # mid-tick: messages taken, not acknowledged
    assert _runs(instance) < JOBS
    # what the dead tick held goes back to the queue (with its run, if one was created)
    while waiting(rabbitmq_url, messaging.JOBS_QUEUE) + _runs(instance) < JOBS:
        assert time.monotonic() < deadline, "messages taken by the killed tick were lost"
        time.sleep(0.05)

    daemon = start_daemon(home, env)
    try:
        while waiting(rabbitmq_url, messaging.JOBS_QUEUE) or _runs(instance) < JOBS:
            assert daemon.poll() is None, (home / "daemon.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "jobs were lost"
            time.sleep(0.5)
    finally:
        kill(daemon)

    for job_id in job_ids:  # exactly one run per job
        runs = instance.get_runs(filters=dg.RunsFilter(tags={job_runs.JOB_ID_TAG: job_id}))
        assert len(runs) == 1, job_id
    assert waiting(rabbitmq_url, messaging.JOBS_DLQ) == 0
    with database.session() as session:
        statuses = {job.status for job in session.query(VideoJob)}
    assert statuses <= {"queued", "submitted"}


def _runs(instance: dg.DagsterInstance) -> int:
    return len(instance.get_run_records())
