"""`frameforge up`: the whole stack in one command, and `frameforge migrate`.

The API (uvicorn), the Dagster webserver, the Dagster daemon and the worker (outbox relay
and notifier) share one data dir, and the servers the environment names (see the README).
Its ports are checked and the database is migrated once before anything starts. Ctrl-C (or
SIGTERM) stops every process; if one of them dies, the others are stopped too. A daemon that
lives but has stopped reporting (its heartbeats, daemon_watch.py) is restarted. Everything a
process needs ships in the package (the instance's dagster.yaml, the workspace), so it runs
from any directory; a start-up failure is one line naming what is wrong.

The console says where things are, when the stack is ready, and then one line per change of
a job's state (job_feed.py); each process's whole log goes to ``<data dir>/logs/<name>.log``
(``--verbose``: to the console, as it comes).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import IO

import dagster as dg
from sqlalchemy.exc import SQLAlchemyError

from frameforge.console import fail, first_line
from frameforge.job_feed import JobFeed, dagster_run_statuses
from frameforge.supervisor import (
    dagster_daemon,
    open_dagster_instance,
    script,
    stop_all,
    supervise,
)
from frameforge_core.bounded_instance import bounded
from frameforge_core.database import create_db_engine, migrate, session_factory
from frameforge_core.settings import (
    DatabaseSettings,
    HomeSettings,
    SupervisorSettings,
    ensure_dagster_home,
)

FEED_SECONDS = 1.0  # how often the job lines look for changes
CODE_SERVER_LOG_FORMAT = "DAGSTER_CLI_API_GRPC_LOG_FORMAT"


def workspace_file() -> Path:
    """The packaged workspace: the code location ``frameforge`` (frameforge_pipeline)."""
    return Path(str(resources.files("frameforge").joinpath("workspace.yaml")))


def commands(api_port: int, dagster_port: int, host: str) -> dict[str, list[str]]:
    workspace = str(workspace_file())
    return {
        "api": [sys.executable, "-m", "uvicorn", "frameforge_api.main:app", "--host", host,
                "--port", str(api_port), "--no-access-log"],
        "webserver": [script("dagster-webserver"), "-w", workspace, "-h", host,
                      "-p", str(dagster_port), "--log-format", "json"],
        # The daemon replaces its code server every minute and leaves the old one to time out,
        # which says so ("No heartbeat received in 20 seconds, shutting down") at warning: its
        # code servers log errors only (the webserver's, which loads the same code, says the rest).
        "daemon": dagster_daemon("run", "-w", workspace, "--log-format", "json",
                                 "--code-server-log-level", "error"),
        "worker": [sys.executable, "-m", "frameforge.cli", "worker"],
    }  # fmt: skip


def migrate_app_database(say: Callable[[str], object] = print) -> int:
    """The app database to the newest schema (under a lock, so several starting at once
    migrate once); ``say`` tells when it is done. One line and exit 1 when it cannot."""
    try:
        migrate(create_db_engine(DatabaseSettings().url))
    except (SQLAlchemyError, OSError) as error:
        return fail(f"cannot migrate the app database: {first_line(error)}")
    say("app database migrated")
    return 0


def port_taken(host: str, ports: dict[str, int]) -> str | None:
    """Why the stack cannot listen where asked, in one line naming the port and the option
    that chooses another; None when every port is free (checked as the servers bind)."""
    if len(set(ports.values())) < len(ports):
        return f"{' and '.join(ports)} are given the same port {next(iter(ports.values()))}"
    for option, port in ports.items():
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                probe.bind((host, port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return (
                        f"port {port} on {host} is in use (another `frameforge up`?): choose "
                        f"another with {option}, e.g. {option} {_free_port(host, port)}"
                    )
                return f"cannot listen on {host}:{port} ({error.strerror}): use {option}"
    return None


def _free_port(host: str, after: int) -> int:
    for port in range(after + 1, min(after + 100, 65535)):
        with socket.socket() as probe, contextlib.suppress(OSError):
            probe.bind((host, port))
            return port
    return 0


def _say(line: str) -> None:
    print(line, flush=True)


def run_stack(
    api_port: int = 8000, dagster_port: int = 3000, host: str = "127.0.0.1", verbose: bool = False
) -> int:
    home = HomeSettings().home
    if taken := port_taken(host, {"--api-port": api_port, "--dagster-port": dagster_port}):
        return fail(taken)
    logs = home / "logs"
    try:
        logs.mkdir(parents=True, exist_ok=True)
        ensure_dagster_home()
    except OSError as error:
        return fail(f"cannot use the data dir {home}: {error.strerror or error}")
    os.environ.setdefault("FRAMEFORGE_PUBLIC_URL", f"http://{host}:{api_port}")
    # the code servers that the webserver and the daemon start log JSON too (`dagster api
    # grpc --log-format`, which they do not pass on, read from the environment)
    os.environ.setdefault(CODE_SERVER_LOG_FORMAT, "json")
    began = time.monotonic()
    if migrate_app_database():
        return 1
    if cannot := open_dagster_instance():
        return fail(cannot)
    supervision = SupervisorSettings()  # a bad setting is one line before anything starts
    _say(f"data dir      {home}")
    _say(f"logs          {logs}/" + ("" if not verbose else " (--verbose: shown here instead)"))
    _say(f"page          http://{host}:{api_port}/")
    _say(f"API docs      http://{host}:{api_port}/docs")
    _say(f"Dagster UI    http://{host}:{dagster_port}")
    outputs: dict[str, IO[bytes] | None] = {}
    processes = {}
    command_of = commands(api_port, dagster_port, host)

    def start(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command_of[name],
            cwd=home,
            start_new_session=True,
            stdout=outputs[name],
            stderr=subprocess.STDOUT if outputs[name] else None,
        )

    for name in command_of:
        outputs[name] = None if verbose else _log_file(logs / f"{name}.log")
        processes[name] = start(name)
    # the watch's reads fail now and then during an outage: its log is no console line (only
    # a restart is)
    logging.getLogger().addHandler(logging.NullHandler())
    runs = dagster_run_statuses(bounded(dg.DagsterInstance.get(), FEED_SECONDS))
    feed = JobFeed(session_factory(create_db_engine(DatabaseSettings().url)), runs)
    waiting = [f"http://{host}:{api_port}/health", f"http://{host}:{dagster_port}/server_info"]
    looked_at = 0.0

    def each_turn() -> None:
        nonlocal looked_at
        if waiting and _answers(waiting[0]):
            waiting.pop(0)
            if not waiting:
                _say(f"ready         in {time.monotonic() - began:.1f} s; Ctrl-C stops it")
        if not waiting and time.monotonic() - looked_at >= FEED_SECONDS:
            looked_at = time.monotonic()
            for line in feed.changes():
                _say(line)

    ended = supervise(processes, supervision, _say, restart=start, each_turn=each_turn)
    exit_code = 0
    if ended.name is not None and ended.returncode is not None:
        where = "" if verbose else f" (its log: {logs / ended.name}.log)"
        _say(f"{ended.name} exited with {ended.returncode}{where}; stopping the stack")
        exit_code = ended.returncode or 1
    for line in feed.changes():  # what happened since the last look
        _say(line)
    _say("stopping")
    stop_all(processes, _say)
    for output in outputs.values():
        if output is not None:
            output.close()
    return exit_code


def _log_file(path: Path) -> IO[bytes]:
    """The process's log, appended to: each start of the stack begins with a line of its own."""
    output = path.open("ab")
    output.write(f"--- frameforge up, {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n".encode())
    output.flush()
    return output


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=0.5).close()
    except OSError:
        return False
    return True
