"""A Dagster daemon that lives but no longer reports is restarted by `frameforge up`, and ends
`frameforge daemon` (compose's daemon service) with exit 1 for its container to be restarted.

First the mechanism, directly: the daemon (and its code server) frozen with SIGSTOP stops
its heartbeats; `up` kills it and starts another, whose heartbeats come. Then the sequence
the review saw wedge a daemon for good, with its times shortened: Dagster's database stalled
(no byte moving), then a black hole (connections accepted, never answered: what was in flight
is lost), then back; a job submitted before the outage completes afterwards.

The heartbeat tolerance is 60 s here (FRAMEFORGE_DAEMON_HEARTBEAT_TOLERANCE_SECONDS): Dagster
heartbeats every 30 s, and run monitoring's loop of 15 s can add as much again."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx2
import pytest

from frameforge.demo import running_stack
from frameforge.stack import workspace_file
from frameforge_core.database import create_db_engine, migrate
from tests.e2e.test_embedded_stack import submit
from tests.environments import embedded
from tests.helpers import wait_until
from tests.integration.faults.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

TOLERANCE_SECONDS = 60
DAEMON_TOLERANCE_SECONDS = 31  # the least the setting accepts
STALL_SECONDS = 20  # the review's: 60
BLACK_HOLE_SECONDS = 15  # the review's: 45
WAIT_SECONDS = 300  # for anything to happen, at most (a shared, loaded machine)


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    log: Path
    api: str
    instance: dg.DagsterInstance

    def daemon_pid(self) -> int | None:
        """The pid of the `dagster-daemon run` that `up` started, if it runs."""
        return daemon_pid(self.process.pid)

    def reported_since(self, since: float) -> bool:
        return reported_since(self.instance, since)


def daemon_pid(parent: int) -> int | None:
    """The pid of the `dagster-daemon run` that the process ``parent`` started, if it runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            status = (entry / "status").read_text()
            ppid = int(status.split("PPid:")[1].split()[0])
            command = (entry / "cmdline").read_bytes().split(b"\0")
            if (
                ppid == parent
                and b"run" in command
                and b"frameforge.dagster_daemon" in command  # supervisor.dagster_daemon()
            ):
                return int(entry.name)
    return None


def reported_since(instance: dg.DagsterInstance, since: float) -> bool:
    """Every daemon type has a heartbeat newer than ``since`` (unix time)."""
    heartbeats = instance.get_daemon_heartbeats()
    return all(
        kind in heartbeats and heartbeats[kind].timestamp > since
        for kind in instance.get_required_daemon_types()
    )


def until(check: Callable[[], object], what: str, log: Path) -> float:
    """Waits for ``check()``; the seconds it took (``log``: what the test shows if it fails)."""
    began = time.monotonic()
    wait_until(check, WAIT_SECONDS, f"not {what}", every=1, detail=log.read_text)
    return time.monotonic() - began


@contextlib.contextmanager
def running_up(tmp_path: Path, **settings: str) -> Iterator[Up]:
    home = tmp_path / "home"
    env = embedded(
        home, FRAMEFORGE_DAEMON_HEARTBEAT_TOLERANCE_SECONDS=str(TOLERANCE_SECONDS), **settings
    )
    log = tmp_path / "up.log"
    with running_stack(log, cwd=tmp_path, env=env) as stack:
        instance = dg.DagsterInstance.from_config(str(home / "dagster"))
        yield Up(stack.process, log, stack.api, instance)


def test_a_daemon_whose_heartbeat_stops_is_restarted_by_up(tmp_path):
    with running_up(tmp_path) as up:
        until(lambda: up.reported_since(0), "reporting at start", up.log)
        frozen = up.daemon_pid()
        assert frozen is not None
        os.killpg(frozen, signal.SIGSTOP)  # the daemon and its code server: alive, silent
        stopped_at = time.time()
        try:
            restart = until(lambda: b"restarting it" in up.log.read_bytes(), "restarted", up.log)
            until(lambda: up.daemon_pid() not in (None, frozen), "a new daemon", up.log)
            reports = until(lambda: up.reported_since(stopped_at), "reporting again", up.log)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(frozen, signal.SIGKILL)
        print(f"restarted {restart:.0f} s after SIGSTOP; reporting again {reports:.0f} s later")
        assert b"daemon has not reported for" in up.log.read_bytes()
        with pytest.raises(ProcessLookupError):
            os.kill(frozen, 0)  # the frozen one is gone, not left behind


@dataclass
class Daemon:
    """A `frameforge daemon` running, its log and its instance, and its `dagster-daemon run`."""

    process: subprocess.Popen[bytes]
    log: Path
    instance: dg.DagsterInstance
    pid: int

    def reporting(self) -> None:
        """Waits until every type has reported; fails at once if the command has ended."""
        ended = self.process.poll
        until(lambda: ended() is not None or reported_since(self.instance, 0), "reporting",
              self.log)  # fmt: skip
        assert ended() is None, self.log.read_text()


@contextlib.contextmanager
def running_daemon(tmp_path: Path, tolerance: float = 120) -> Iterator[Daemon]:
    home = tmp_path / "home"
    env = embedded(home, FRAMEFORGE_DAEMON_HEARTBEAT_TOLERANCE_SECONDS=str(tolerance))
    log = tmp_path / "daemon.log"
    home.mkdir()
    migrate(create_db_engine(f"sqlite:///{home / 'app.db'}"))  # as a deployment does first
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "frameforge.cli", "daemon", "-w", str(workspace_file())],
            stdout=output, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
        )  # fmt: skip
        try:
            until(lambda: daemon_pid(process.pid) or process.poll() is not None, "started", log)
            pid = daemon_pid(process.pid)
            assert pid is not None, log.read_text()
            # the command made the instance before it started the daemon
            instance = dg.DagsterInstance.from_config(str(home / "dagster"))
            yield Daemon(process, log, instance, pid)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(60)


def test_frameforge_daemon_stops_a_daemon_whose_heartbeat_stops_and_exits_1(tmp_path):
    """Compose restarts what exits: the command ends, non-zero, once the daemon it runs has
    been silent for the tolerance (the least it accepts: Dagster heartbeats every 30 s)."""
    with running_daemon(tmp_path, tolerance=DAEMON_TOLERANCE_SECONDS) as daemon:
        daemon.reporting()
        frozen = daemon.pid
        os.killpg(frozen, signal.SIGSTOP)  # the daemon and its code server: alive, silent
        stopped_at = time.monotonic()
        try:
            code = daemon.process.wait(WAIT_SECONDS)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(frozen, signal.SIGKILL)
        print(f"exited {time.monotonic() - stopped_at:.0f} s after SIGSTOP")
        text = daemon.log.read_text()
        assert code == 1, text
        assert "daemon has not reported for" in text
        assert "stopping it (exit 1, for its supervisor to restart it)" in text
        with pytest.raises(ProcessLookupError):
            os.killpg(frozen, 0)  # neither the daemon nor its code server is left behind


def test_a_stop_ends_frameforge_daemon_and_its_daemon_cleanly(tmp_path):
    """SIGTERM, as `docker stop` sends it, goes to the daemon, which finishes its ticks and stops
    its code server itself (no tick fails), and the command exits with the daemon's code: 0,
    or 137 if it outlived the grace and was killed (seen here under a load of 20 on 2 cores:
    4 s to stop its threads, more to end the process)."""
    with running_daemon(tmp_path) as daemon:
        daemon.reporting()
        daemon.process.send_signal(signal.SIGTERM)
        code = daemon.process.wait(60)
    text = daemon.log.read_text()
    killed = "daemon did not stop within 8 s; killed" in text
    print(f"exit {code}; killed after the grace: {killed}")
    assert code == (128 + signal.SIGKILL if killed else 0), text
    assert "Daemon threads shut down." in text  # the daemon's own stop
    assert "Traceback" not in text
    with pytest.raises(ProcessLookupError):
        os.killpg(daemon.pid, 0)  # the daemon and its code server are gone


def test_a_stall_then_a_black_hole_of_dagsters_database_leaves_no_job_waiting(
    tmp_path, dagster_pg_url, make_clip, monkeypatch
):
    """The review's sequence (stall 60 s, black hole 45 s, then back), shortened: a job asked
    for during the outage completes after it, whether the daemon came through by itself or
    `up` had to restart it (said in the output)."""
    proxy = TcpProxy(("127.0.0.1", 5432))
    via_proxy = dagster_pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    monkeypatch.setenv("DAGSTER_PG_URL", dagster_pg_url)  # the test reads it directly
    try:
        with (
            running_up(tmp_path, DAGSTER_PG_URL=via_proxy) as up,
            httpx2.Client(base_url=up.api, timeout=30) as client,
        ):
            until(lambda: up.reported_since(0), "reporting at start", up.log)
            account = {"email": "stall@example.com", "password": "stalled but not lost 7"}
            assert client.post("/api/v1/auth/register", json=account).status_code == 201
            token = client.post("/api/v1/auth/login", json=account).json()["accessToken"]
            client.headers["Authorization"] = f"Bearer {token}"
            clip = make_clip("cfr.mp4", seconds=5).path.read_bytes()

            proxy.stall()
            job_id = submit(client, clip)  # the app database is not stalled: accepted
            time.sleep(STALL_SECONDS)
            proxy.black_hole()
            time.sleep(BLACK_HOLE_SECONDS)
            proxy.restore()
            back = time.time()

            took = until(lambda: _status(client, job_id) == "completed", "completed", up.log)
            until(lambda: up.reported_since(back), "reporting after the outage", up.log)
            restarted = b"restarting it" in up.log.read_bytes()
            print(f"job completed {took:.0f} s after the outage; daemon restarted: {restarted}")
    finally:
        proxy.close()


def _status(client: httpx2.Client, job_id: str) -> str | None:
    answer = client.get(f"/api/v1/videos/jobs/{job_id}")
    return str(answer.json()["status"]) if answer.status_code == 200 else None
