"""`frameforge up`'s watch over the Dagster daemon's heartbeats.

The daemon writes a heartbeat per daemon type (sensors, the run queue, run monitoring, ...)
into the instance about every 30 s. A daemon thread stuck on a database call or a gRPC call
that never returns stops its type's heartbeats while the process lives on, and Dagster's own
controller only logs a warning about it: queued jobs would wait until someone restarted it.
So ``frameforge up`` restarts a daemon one of whose types has not reported for
``FRAMEFORGE_DAEMON_HEARTBEAT_TOLERANCE_SECONDS`` (120 s; Kubernetes does the same with a
liveness probe, helm-values/dagster.yaml).

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
log = logging.getLogger(__name__)


class DaemonWatch:
    """How long the daemon has been silent: since the oldest of its types' latest heartbeats,
    or since it was (re)started if that is later."""

    def __init__(self, instance: dg.DagsterInstance, tolerance: float):
        self.tolerance = tolerance
        self._instance = BoundedInstance(instance, READ_TIMEOUT_SECONDS)
        self._heard = time.monotonic()  # when every daemon type had last reported
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="daemon-watch", daemon=True)
        self._thread.start()

    def silent_for(self) -> float:
        with self._lock:
            return time.monotonic() - self._heard

    @property
    def wedged(self) -> bool:
        return self.silent_for() > self.tolerance

    def restarted(self) -> None:
        """A new daemon: it has ``tolerance`` seconds to report."""
        with self._lock:
            self._heard = time.monotonic()

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
            self._heard = max(self._heard, heard)
