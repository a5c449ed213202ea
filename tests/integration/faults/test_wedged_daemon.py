"""A Dagster daemon that lives but no longer reports is restarted by `frameforge up`.

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
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx2
import pytest

from frameforge.demo import running_stack
from tests.e2e.test_embedded_stack import submit
from tests.environments import embedded
from tests.helpers import wait_until
from tests.integration.faults.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

TOLERANCE_SECONDS = 60
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
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                status = (entry / "status").read_text()
                parent = int(status.split("PPid:")[1].split()[0])
                command = (entry / "cmdline").read_bytes().split(b"\0")
                if (
                    parent == self.process.pid
                    and b"run" in command
                    and any(part.endswith(b"dagster-daemon") for part in command)
                ):
                    return int(entry.name)
        return None

    def reported_since(self, since: float) -> bool:
        """Every daemon type has a heartbeat newer than ``since`` (unix time)."""
        heartbeats = self.instance.get_daemon_heartbeats()
        return all(
            kind in heartbeats and heartbeats[kind].timestamp > since
            for kind in self.instance.get_required_daemon_types()
        )


def until(check: Callable[[], object], what: str, up: Up) -> float:
    """Waits for ``check()``; the seconds it took."""
    began = time.monotonic()
    wait_until(check, WAIT_SECONDS, f"not {what}", every=1, detail=up.log.read_text)
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
        until(lambda: up.reported_since(0), "reporting at start", up)
        frozen = up.daemon_pid()
        assert frozen is not None
        os.killpg(frozen, signal.SIGSTOP)  # the daemon and its code server: alive, silent
        stopped_at = time.time()
        try:
            restart = until(lambda: b"restarting it" in up.log.read_bytes(), "restarted", up)
            until(lambda: up.daemon_pid() not in (None, frozen), "a new daemon", up)
            reports = until(lambda: up.reported_since(stopped_at), "reporting again", up)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(frozen, signal.SIGKILL)
        print(f"restarted {restart:.0f} s after SIGSTOP; reporting again {reports:.0f} s later")
        assert b"daemon has not reported for" in up.log.read_bytes()
        with pytest.raises(ProcessLookupError):
            os.kill(frozen, 0)  # the frozen one is gone, not left behind


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
            until(lambda: up.reported_since(0), "reporting at start", up)
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

            took = until(lambda: _status(client, job_id) == "completed", "completed", up)
            until(lambda: up.reported_since(back), "reporting after the outage", up)
            restarted = b"restarting it" in up.log.read_bytes()
            print(f"job completed {took:.0f} s after the outage; daemon restarted: {restarted}")
    finally:
        proxy.close()


def _status(client: httpx2.Client, job_id: str) -> str | None:
    answer = client.get(f"/api/v1/videos/jobs/{job_id}")
    return str(answer.json()["status"]) if answer.status_code == 200 else None
