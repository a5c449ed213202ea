"""What many tests need: waiting for something another process or thread does, and a free
loopback port for a server a test starts."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    timeout: float = 20,
    what: str = "timed out",
    every: float = 0.05,
    detail: Callable[[], str] | None = None,
) -> T:
    """Poll ``condition`` every ``every`` seconds until it returns something true, and return
    that; fail the test after ``timeout`` seconds saying ``what`` (and ``detail()``, e.g. the
    end of a daemon's log)."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, what + (f"; {detail()}" if detail else "")
        time.sleep(every)
    return found


def free_port() -> int:
    """A loopback port nothing listens on now (a server started next may take it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
