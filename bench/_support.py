"""Helpers shared by the load and scale benches (not a bench itself).

Free ports, a scratch PostgreSQL database, a scratch RabbitMQ vhost, CPU time of a process
tree read from /proc, waiting for a URL, percentiles and tables.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _admin_connect():  # type: ignore[no-untyped-def]
    import psycopg

    for user in ("postgres", os.environ.get("USER", "root"), "test"):
        with contextlib.suppress(psycopg.OperationalError):
            return psycopg.connect(
                f"postgresql://{user}@127.0.0.1:5432/test", autocommit=True
            ), user
    raise RuntimeError("cannot reach PostgreSQL on 127.0.0.1:5432 (db test)")


@contextlib.contextmanager
def scratch_database(prefix: str, drop: bool = True) -> Iterator[str]:
    """A new PostgreSQL database; yields its name, drops it (and its connections) after
    (unless ``drop`` is false: a bench that keeps its data for another run)."""
    connection, _user = _admin_connect()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        if drop:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.close()


def pg_user() -> str:
    connection, user = _admin_connect()
    connection.close()
    return user


@contextlib.contextmanager
def scratch_vhost(prefix: str) -> Iterator[str]:
    """A RabbitMQ vhost of our own (so no other test's consumer takes our messages); yields
    its URL-encoded name; deletes it after."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    try:
        yield name
    finally:
        subprocess.run(["rabbitmqctl", "delete_vhost", name], capture_output=True)


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes (not their children), in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine (all cores) since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK


def wait_url(
    url: str, timeout: float = 120, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with {process.returncode}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2).close()
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not up after {timeout} s")


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary_ms(values: Sequence[float]) -> str:
    """p50 / p95 / p99 / max of seconds, in ms."""
    ms = [v * 1000 for v in values]
    return (
        f"p50 {pct(ms, 50):8.2f}  p95 {pct(ms, 95):8.2f}  p99 {pct(ms, 99):8.2f}  "
        f"max {max(ms):8.2f} ms  (n={len(ms)})"
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    cells = [[str(h) for h in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def clear_redis(
    url: str, patterns: Sequence[str] = ("frameforge:rate:*", "frameforge:cache:*")
) -> None:
    """FrameForge's rate-limit and cache keys in the bench's own Redis database."""
    import redis

    client = redis.Redis.from_url(url)
    for pattern in patterns:
        keys = list(client.scan_iter(pattern, count=1000))
        if keys:
            client.delete(*keys)
    client.close()
