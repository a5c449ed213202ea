"""`frameforge daemon`: `dagster-daemon run` (its log made fit to read: dagster_daemon.py)
under the heartbeat watch that `frameforge up` keeps (supervisor.py, daemon_watch.py), for
deployments whose supervisor restarts a process only when it exits.

Compose is one: a healthcheck only marks a container unhealthy, and Docker and Podman restart
containers that exit, not unhealthy ones. So a daemon one of whose types has not reported for
``FRAMEFORGE_DAEMON_HEARTBEAT_TOLERANCE_SECONDS`` is stopped (SIGTERM, SIGKILL after 8 s) and
the command exits 1, for ``restart: unless-stopped`` to start another. SIGTERM and SIGINT stop
the daemon the same way and the command exits with its code, as it does when the daemon exits
by itself. Its own lines are log lines (JSON unless ``FRAMEFORGE_LOG_FORMAT=text``); the
daemon's output goes where the command's does.
"""

from __future__ import annotations

import logging
import subprocess

from frameforge.console import fail
from frameforge.supervisor import (
    dagster_daemon,
    exit_code,
    open_dagster_instance,
    stop_all,
    supervise,
)
from frameforge_core import logs
from frameforge_core.settings import SupervisorSettings, ensure_dagster_home

EXIT_WEDGED = 1
log = logging.getLogger("frameforge.daemon")


def run_daemon(arguments: list[str]) -> int:
    """Runs ``dagster-daemon run ARGUMENTS`` until it exits, is wedged, or a stop is asked for;
    the exit code: the daemon's, or ``EXIT_WEDGED``."""
    logs.configure("daemon")
    settings = SupervisorSettings()  # a bad setting is one line before anything starts
    ensure_dagster_home()  # an explicit $DAGSTER_HOME as it is, else the data dir's instance
    if cannot := open_dagster_instance():
        return fail(cannot)
    if arguments[:1] == ["--"]:  # `frameforge daemon -- -w workspace.yaml`
        arguments = arguments[1:]
    daemon = subprocess.Popen(dagster_daemon("run", *arguments), start_new_session=True)
    processes = {"daemon": daemon}
    ended = supervise(processes, settings, log.error)
    stop_all(processes, log.error)
    if ended.wedged:
        return EXIT_WEDGED
    if ended.name is not None:
        log.warning("the Dagster daemon exited by itself with %s", ended.returncode)
    return exit_code(daemon.returncode)
