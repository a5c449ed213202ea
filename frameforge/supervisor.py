"""The watch over child processes that `frameforge up` (the whole stack) and `frameforge daemon`
(the Dagster daemon alone, as compose runs it) share.

Each child runs in a session of its own, so that stopping it stops what it started (the
daemon's code server, a run). The watch ends on SIGINT or SIGTERM, or when a child exits. The
child named ``daemon`` is also watched for its heartbeats (daemon_watch.py): a daemon that
lives but has stopped reporting is restarted in place when the caller can restart it (`up`);
otherwise the watch ends, and `frameforge daemon` exits non-zero for the container engine (or
whatever supervises it) to start another: Docker and Podman restart a container that exits,
never one that only turns unhealthy.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from frameforge.console import first_line
from frameforge.daemon_watch import DaemonWatch
from frameforge_core.settings import SupervisorSettings

# Below the 10 s that docker and podman (and Kubernetes' 30 s) give a container to stop after
# SIGTERM, before they kill it: the children stop cleanly, and so does the command.
STOP_GRACE_SECONDS = 8
LEFTOVER_SECONDS = 2.0  # what a stopped child left in its group gets at least this long
TURN_SECONDS = 0.2  # how often the children are looked at

Processes = dict[str, subprocess.Popen[bytes]]
Say = Callable[[str], object]


@dataclass(frozen=True)
class Ended:
    """Why the watch ended: a stop was asked for (SIGINT, SIGTERM; no ``name``), the child
    ``name`` exited with ``returncode``, or the daemon was wedged (``wedged``) and no one
    could restart it."""

    name: str | None = None
    returncode: int | None = None
    wedged: bool = False


def dagster_daemon(*arguments: str) -> list[str]:
    """Dagster's daemon as FrameForge runs it, by this Python: `dagster-daemon` with its log
    fit to read (no line twice, no idle ticks, a quick end; frameforge/dagster_daemon.py)."""
    return [sys.executable, "-m", "frameforge.dagster_daemon", *arguments]


def script(name: str) -> str:
    """A console script of this Python (``dagster-daemon``): beside sys.executable in a venv,
    but elsewhere in a Debian-style Python (/usr/bin/python3, scripts in /usr/local/bin)."""
    return str(Path(sysconfig.get_path("scripts")) / name)


def open_dagster_instance() -> str | None:
    """Opens the Dagster instance once, before its processes start, which creates its storage
    here (the webserver and the daemon starting together on a new SQLite instance would both
    try to create its tables); what is wrong, in one line, when it cannot."""
    try:
        with dg.DagsterInstance.get() as instance:
            instance.get_runs(limit=1)
    except Exception as error:  # any storage Dagster supports, each with its own errors
        return f"cannot open the Dagster instance: {first_line(error)}"
    return None


def supervise(
    processes: Processes,
    settings: SupervisorSettings,
    say: Say,
    restart: Callable[[str], subprocess.Popen[bytes]] | None = None,
    each_turn: Callable[[], object] = lambda: None,
) -> Ended:
    """Watches ``processes`` (just started) until a stop is asked for, one of them exits, or
    the one named ``daemon`` is wedged (silent for the tolerance ``settings`` give): then
    ``restart("daemon")`` replaces it in ``processes`` and the watch goes on, or without
    ``restart`` the watch ends. ``say`` tells of a wedged daemon; ``each_turn`` is called about
    every ``TURN_SECONDS``. The processes are left as they are: ``stop_all`` stops them."""
    stop = _stop_on_signals()
    watch = DaemonWatch(dg.DagsterInstance.get(), settings.daemon_heartbeat_tolerance_seconds)
    try:
        while not stop():
            for name, process in processes.items():
                if process.poll() is not None:
                    return Ended(name, process.returncode)
            if watch.wedged:  # alive but silent: stuck on a call (see daemon_watch)
                silent = f"daemon has not reported for {watch.silent_for():.0f} s"
                if restart is None:
                    say(f"{silent}; stopping it (exit 1, for its supervisor to restart it)")
                    return Ended("daemon", wedged=True)
                say(f"{silent}; restarting it")
                stop_all({"daemon": processes["daemon"]}, say)
                processes["daemon"] = restart("daemon")
                watch.restarted()
            each_turn()
            time.sleep(TURN_SECONDS)
        return Ended()
    finally:
        watch.stop()


def _stop_on_signals() -> Callable[[], bool]:
    """SIGINT and SIGTERM, from now on, ask for a stop (a second one too: the stop goes on);
    whether one has."""
    asked: list[int] = []
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda number, _frame: asked.append(number))
    return lambda: bool(asked)


def stop_all(processes: Processes, say: Say) -> None:
    """SIGTERM to every running process, which stops what it started in its own order (the
    daemon finishes its ticks, then stops its code server); SIGKILL (said out loud) to the
    group of any still running after ``STOP_GRACE_SECONDS``, and SIGTERM to whatever is left
    in the group of one that stopped (a run it launched), until none is (``_end_group``)."""
    running = {name: p for name, p in processes.items() if p.poll() is None}
    for process in running.values():
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, process in running.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop within {STOP_GRACE_SECONDS} s; killed")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        _end_group(process.pid, max(deadline, time.monotonic() + LEFTOVER_SECONDS))


def _end_group(group: int, deadline: float) -> None:
    """SIGTERM to what a stopped process left in its group (a code server finishing its own
    stop, a run it launched), waiting until none is left; SIGKILL to any still there at
    ``deadline``. Nothing of a stopped child outlives the stop."""
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:  # none left: the usual case
        return
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def exit_code(returncode: int) -> int:
    """A child's return code as a shell gives it on: 128 + N for one ended by signal N."""
    return 128 - returncode if returncode < 0 else returncode
