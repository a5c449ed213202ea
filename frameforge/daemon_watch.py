"""The watch over the Dagster daemon's heartbeats that `frameforge up` and `frameforge daemon`
keep (supervisor.py).

The daemon writes a heartbeat per daemon type (sensors, the run queue, run monitoring, ...)
into the instance about every 30 s. A daemon thread stuck on a database call or a gRPC call
that never returns stops its type's heartbeats while the process lives on, and Dagster's own
controller only logs a warning about it: queued jobs would wait until someone restarted it.
So a daemon one of whose types has not reported for
``FRAMEFORGE_DAEMON_HEARTBEAT_TOLERANCE_SECONDS`` (120 s) is restarted: by ``frameforge up`` in
place, by compose once ``frameforge daemon`` has stopped it and exited 1, and on Kubernetes by
the chart's liveness probe (helm-values/dagster.yaml).

A daemon that has not reported yet since it was (re)started has ``STARTUP_SECONDS`` at least
(as the chart's startup probe gives it): a daemon loading its workspace on a loaded machine
took more than 30 s, and one restarted before it ever reported would be restarted forever.

The heartbeats are read in a thread of the watch's own, each read bounded
(``bounded_instance``): a stalled instance delays the news, never the supervisor.
"""

from __future__ import annotations

import logging
import threading
import time

import dagster as dg

from frameforge_core.bounded_instance import BoundedInstance

CHECK_SECONDS = 5.0  # how often the heartbeats are read
READ_TIMEOUT_SECONDS = 10.0  # one read of them, at most
STARTUP_SECONDS = 180.0  # a new daemon's time to report first, at least
log = logging.getLogger(__name__)


class DaemonWatch:
    """How long the daemon has been silent: since the oldest of its types' latest heartbeats,
    or since it was (re)started if that is later; and whether every type has reported since."""

    def __init__(self, instance: dg.DagsterInstance, tolerance: float):
        self.tolerance = tolerance
        self._instance = BoundedInstance(instance, READ_TIMEOUT_SECONDS)
        self._heard = time.monotonic()  # when every daemon type had last reported
        self._reported = False  # every type has, since the daemon was (re)started
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="daemon-watch", daemon=True)
        self._thread.start()

    def silent_for(self) -> float:
        with self._lock:
            return time.monotonic() - self._heard

    @property
    def wedged(self) -> bool:
        with self._lock:
            allowed = self.tolerance if self._reported else max(self.tolerance, STARTUP_SECONDS)
            return time.monotonic() - self._heard > allowed

    def restarted(self) -> None:
        """A new daemon: it has ``STARTUP_SECONDS`` (or ``tolerance`` if longer) to report."""
        with self._lock:
            self._heard = time.monotonic()
            self._reported = False

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(CHECK_SECONDS):
            self.check()

    def check(self) -> None:
        """Read the heartbeats once; the daemon is heard of as of its stalest type's last one."""
        try:
            heartbeats = self._instance.get_daemon_heartbeats()
            required = self._instance.get_required_daemon_types()
        except Exception as error:  # unreadable (any storage's errors, or the bound): unheard
            log.warning("cannot read the Dagster daemon's heartbeats: %s", error)
            return
        if any(kind not in heartbeats for kind in required):
            return
        oldest = min(heartbeats[kind].timestamp for kind in required)
        heard = time.monotonic() - max(0.0, time.time() - oldest)
        with self._lock:
            if heard > self._heard:  # the types' latest heartbeats all came after the (re)start
                self._reported = True
            self._heard = max(self._heard, heard)
