"""``python -m frameforge.healthcheck``: the image's HEALTHCHECK.

It asks the API's ``/health`` on the port that a process of this container listens on, not on
a fixed one: the API may be given another ``--port``, and with host networking a fixed
``127.0.0.1:8000`` may be another container's, or another program's, whose health it would
report. The listening sockets are found in ``/proc``: those in LISTEN state in
``/proc/net/tcp{,6}`` whose inode a process of this container (its PID namespace) holds open.
Exit 0 when one of them answers 200, else 1 with one line saying what it tried.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import sys
import urllib.request
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"  # the TCP state in /proc/net/tcp
TIMEOUT_SECONDS = 4


def socket_inodes(pids: Iterable[int]) -> set[int]:
    """The inodes of the sockets the processes ``pids`` hold open (those we may look at)."""
    inodes: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):  # gone, or not ours to read
            for fd in (PROC / str(pid) / "fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(int(target[8:-1]))
    return inodes


def _address(hex_address: str) -> str:
    """/proc/net/tcp's little-endian hex address as text (IPv4 or IPv6)."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def listening(pids: Iterable[int]) -> list[tuple[str, int]]:
    """``(host, port)`` of every TCP socket in LISTEN state held by one of ``pids``, in the
    order the kernel lists them; a wildcard address becomes its loopback."""
    inodes = socket_inodes(pids)
    found: list[tuple[str, int]] = []
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
            for line in lines:
                fields = line.split()
                if fields[3] != LISTEN or int(fields[9]) not in inodes:
                    continue
                hex_host, hex_port = fields[1].split(":")
                host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(h := _address(hex_host), h)
                found.append((host, int(hex_port, 16)))
    return found


def healthy(host: str, port: int) -> bool:
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def main() -> int:
    pids = [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]
    sockets = listening(pids)
    if any(healthy(host, port) for host, port in sockets):
        return 0
    tried = ", ".join(f"{host}:{port}" for host, port in sockets) or "no listening socket"
    print(f"frameforge healthcheck: no /health answered 200 ({tried})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
