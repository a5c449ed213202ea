"""`frameforge up`: the whole stack in one command, and `frameforge migrate`.

The API (uvicorn), the Dagster webserver, the Dagster daemon and the worker (outbox relay
and notifier) share one data dir, and the servers the environment names (see the README).
The database is migrated once before anything starts. Ctrl-C (or SIGTERM) stops
every process; if one of them dies, the others are stopped too. Everything a process needs
ships in the package (the instance's dagster.yaml, the workspace), so it runs from any
directory; a start-up failure is one line naming what is wrong.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import dagster as dg
from sqlalchemy.exc import SQLAlchemyError

from frameforge.cli import fail
from frameforge_core.database import create_db_engine, migrate
from frameforge_core.settings import DatabaseSettings, HomeSettings, ensure_dagster_home

# Below the 10 s that docker and podman (and Kubernetes' 30 s) give a container to stop after
# SIGTERM, before they kill it: the children stop cleanly, and so does `frameforge up`.
STOP_GRACE_SECONDS = 8


def workspace_file() -> Path:
    """The packaged workspace: the code location ``frameforge`` (frameforge_pipeline)."""
    return Path(str(resources.files("frameforge").joinpath("workspace.yaml")))


def commands(api_port: int, dagster_port: int, host: str) -> dict[str, list[str]]:
    # where this Python installs scripts: beside sys.executable in a venv, but elsewhere in a
    # Debian-style Python (/usr/bin/python3, scripts in /usr/local/bin)
    bin_dir = Path(sysconfig.get_path("scripts"))
    workspace = str(workspace_file())
    return {
        "api": [sys.executable, "-m", "uvicorn", "frameforge_api.main:app", "--host", host,
                "--port", str(api_port), "--no-access-log"],
        "webserver": [str(bin_dir / "dagster-webserver"), "-w", workspace, "-h", host,
                      "-p", str(dagster_port)],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", workspace],
        "worker": [sys.executable, "-m", "frameforge.cli", "worker"],
    }  # fmt: skip


def migrate_app_database(say: Callable[[str], object] = print) -> int:
    """The app database to the newest schema (under a lock, so several starting at once
    migrate once); ``say`` tells when it is done. One line and exit 1 when it cannot."""
    try:
        migrate(create_db_engine(DatabaseSettings().url))
    except (SQLAlchemyError, OSError) as error:
        return fail(f"cannot migrate the app database: {_first_line(error)}")
    say("app database migrated")
    return 0


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def run_stack(api_port: int = 8000, dagster_port: int = 3000, host: str = "127.0.0.1") -> int:
    home = HomeSettings().home
    try:
        home.mkdir(parents=True, exist_ok=True)
        ensure_dagster_home()
    except OSError as error:
        return fail(f"cannot use the data dir {home}: {error.strerror or error}")
    os.environ.setdefault("FRAMEFORGE_PUBLIC_URL", f"http://{host}:{api_port}")
    if migrate_app_database():
        return 1
    # Create the instance's storage here, once: the webserver and the daemon starting
    # together on a new SQLite instance would both try to create its tables.
    try:
        with dg.DagsterInstance.get() as instance:
            instance.get_runs(limit=1)
    except Exception as error:  # any storage Dagster supports, each with its own errors
        return fail(f"cannot open the Dagster instance: {_first_line(error)}")
    print(f"data dir      {home}", flush=True)
    print(f"API           http://{host}:{api_port}/docs", flush=True)
    print(f"Dagster UI    http://{host}:{dagster_port}", flush=True)
    processes = {
        name: subprocess.Popen(command, cwd=home, start_new_session=True)
        for name, command in commands(api_port, dagster_port, host).items()
    }
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping the stack", flush=True)
                exit_code, stopping = process.returncode or 1, True
        time.sleep(0.2)
    _stop_all(processes)
    return exit_code


def _stop_all(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM to every running process group, SIGKILL (said out loud) to any still running
    after ``STOP_GRACE_SECONDS``."""
    running = {name: p for name, p in processes.items() if p.poll() is None}
    for process in running.values():
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, process in running.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop within {STOP_GRACE_SECONDS} s; killed", flush=True)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
