"""The daemon `frameforge up` runs (frameforge/dagster_daemon.py): Dagster's lines once each,
whatever calls the root logger, and no line for a sensor tick that found nothing to do."""

import subprocess
import sys

import pytest

# What the daemon's process does after fit_logging: Dagster gives its loggers a handler
# (dagster._utils.log.configure_loggers: "dagster" at INFO, to stdout), and Dagster's SQLite
# event log logs on the root logger when two processes create a run's database at once.
DAEMON = """
import logging, logging.config
from frameforge.dagster_daemon import fit_logging
fit_logging()
logging.config.dictConfig({
    "version": 1, "disable_existing_loggers": False,
    "handlers": {"h": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                       "level": "INFO"}},
    "loggers": {"dagster": {"handlers": ["h"], "level": "INFO"}},
})
logging.info("SqliteEventLogStorage._initdb: Encountered apparent concurrent init")
sensors = logging.getLogger("dagster.daemon.SensorDaemon")
sensors.info("Checking for new runs for sensor: job_queue")
sensors.info("Sensor job_queue skipped: Sensor function returned an empty result")
sensors.info("No run requests returned for job_queue, skipping")
sensors.info("Launching run for job_queue")
logging.getLogger("dagster.daemon").warning("a warning")
logging.getLogger("sqlalchemy.pool").warning("a library's warning")
"""


def test_each_line_once_and_no_idle_ticks():
    done = subprocess.run(
        [sys.executable, "-c", DAEMON], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines() == ["Launching run for job_queue", "a warning"]
    [library] = done.stderr.splitlines()  # the root's own line: JSON, not Python's default
    assert '"message": "a library\'s warning"' in library
    assert '"service": "daemon"' in library


@pytest.mark.parametrize(("arguments", "code"), [(["--help"], 0), (["no-such-command"], 2)])
def test_it_ends_with_the_daemon_command_s_exit_code(arguments, code):
    """Ended at once (console.exit_at_once), without Python's teardown: the code and the
    output still get out."""
    done = subprocess.run(
        [sys.executable, "-m", "frameforge.dagster_daemon", *arguments],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == code, done.stderr
    assert "Usage: python -m frameforge.dagster_daemon [OPTIONS] COMMAND" in (
        done.stdout + done.stderr
    )
