"""Is the Dagster daemon doing its work? Without it no job ever leaves ``queued``, so the
API's readiness says so rather than accepting jobs that would wait forever.

The daemon writes a heartbeat per daemon type about every 30 s; one older than
``HEARTBEAT_TOLERANCE_SECONDS`` is a dead or hung daemon (Dagster's own default tolerance,
30 min, is meant for its UI). A sensor whose last ``FAILING_TICKS`` evaluations all failed
(the app database unreachable, a broken deployment) keeps jobs from starting as surely.
"""

from __future__ import annotations

import time

import dagster as dg

from frameforge_pipeline import dagster_internals as internals

HEARTBEAT_TOLERANCE_SECONDS = 90.0
FAILING_TICKS = 3
RECENT_SECONDS = 600.0  # ticks older than this belong to a sensor no longer evaluated


def daemon_problems(instance: dg.DagsterInstance, now: float | None = None) -> list[str]:
    """What keeps the daemon from starting and following runs; empty when nothing does.
    A daemon's errors now and then are no outage (failing sensors are, below)."""
    now = time.time() if now is None else now
    daemons = internals.required_daemons(instance, now, HEARTBEAT_TOLERANCE_SECONDS)
    unhealthy = [daemon for daemon in daemons if not daemon.healthy]
    problems = []
    if any(daemon.last_heartbeat is None for daemon in unhealthy):
        problems.append("the Dagster daemon is not running")
    elif unhealthy:
        last = max(daemon.last_heartbeat for daemon in unhealthy if daemon.last_heartbeat)
        kinds = ", ".join(daemon.daemon_type for daemon in unhealthy)
        problems.append(f"the Dagster daemon has not reported for {now - last:.0f} s ({kinds})")
    ticks = internals.sensor_ticks(instance, after=now - RECENT_SECONDS, limit=FAILING_TICKS)
    for sensor, latest in ticks.items():
        if len(latest) == FAILING_TICKS and all(tick.failed for tick in latest):
            error = latest[0].error or "an error"
            problems.append(f"the Dagster sensor {sensor} keeps failing ({error})")
    return problems
