"""`frameforge up`: the whole stack in one command.

The API (uvicorn), the Dagster webserver, the Dagster daemon and the worker (outbox relay
and notifier) share one data dir, and the servers the environment names (see the README).
The database is migrated once before anything starts. Ctrl-C (or SIGTERM) stops
every process; if one of them dies, the others are stopped too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from frameforge_core.database import create_db_engine, migrate
from frameforge_core.settings import REPOSITORY_ROOT, ensure_dagster_home, frameforge_home

STOP_GRACE_SECONDS = 15


def commands(api_port: int, dagster_port: int, host: str) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    workspace = str(REPOSITORY_ROOT / "workspace.yaml")
    return {
        "api": [sys.executable, "-m", "uvicorn", "frameforge_api.main:app", "--host", host,
                "--port", str(api_port), "--no-access-log"],
        "webserver": [str(bin_dir / "dagster-webserver"), "-w", workspace, "-h", host,
                      "-p", str(dagster_port)],
        "daemon": [str(bin_dir / "dagster-daemon"), "run", "-w", workspace],
        "worker": [sys.executable, "-m", "frameforge_pipeline.cli", "worker"],
    }  # fmt: skip


def run_stack(api_port: int = 8000, dagster_port: int = 3000, host: str = "127.0.0.1") -> int:
    ensure_dagster_home()
    os.environ.setdefault("FRAMEFORGE_PUBLIC_URL", f"http://{host}:{api_port}")
    migrate(create_db_engine())
    # Create the instance's storage here, once: the webserver and the daemon starting
    # together on a new SQLite instance would both try to create its tables.
    with dg.DagsterInstance.get() as instance:
        instance.get_runs(limit=1)
    print(f"data dir      {frameforge_home()}", flush=True)
    print(f"API           http://{host}:{api_port}/docs", flush=True)
    print(f"Dagster UI    http://{host}:{dagster_port}", flush=True)
    processes = {
        name: subprocess.Popen(command, cwd=frameforge_home(), start_new_session=True)
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
    _stop_all(processes.values())
    return exit_code


def _stop_all(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    running = [p for p in processes if p.poll() is None]
    for process in running:
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in running:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
