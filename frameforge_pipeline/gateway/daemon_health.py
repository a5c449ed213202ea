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
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.scheduler.instigation import InstigatorStatus, TickStatus
from dagster._daemon.controller import get_daemon_statuses

HEARTBEAT_TOLERANCE_SECONDS = 90.0
FAILING_TICKS = 3
RECENT_SECONDS = 600.0  # ticks older than this belong to a sensor no longer evaluated
_EVALUATED = {InstigatorStatus.RUNNING, InstigatorStatus.DECLARED_IN_CODE}


def daemon_problems(instance: dg.DagsterInstance, now: float | None = None) -> list[str]:
    """What keeps the daemon from starting and following runs; empty when nothing does."""
    now = time.time() if now is None else now
    statuses = get_daemon_statuses(
        instance,
        instance.get_required_daemon_types(),
        curr_time_seconds=now,
        ignore_errors=True,  # an error now and then is no outage: failing sensors are
        heartbeat_tolerance_seconds=HEARTBEAT_TOLERANCE_SECONDS,
    )
    unhealthy = [s for s in statuses.values() if s.required and not s.healthy]
    problems = []
    if any(status.last_heartbeat is None for status in unhealthy):
        problems.append("the Dagster daemon is not running")
    elif unhealthy:
        last = max(status.last_heartbeat.timestamp for status in unhealthy if status.last_heartbeat)
        kinds = ", ".join(status.daemon_type for status in unhealthy)
        problems.append(f"the Dagster daemon has not reported for {now - last:.0f} s ({kinds})")
    sensors = instance.all_instigator_state(
        instigator_type=InstigatorType.SENSOR, instigator_statuses=_EVALUATED
    )
    for sensor in sensors:
        ticks = instance.get_ticks(
            sensor.instigator_origin_id,
            sensor.selector_id,
            after=now - RECENT_SECONDS,
            limit=FAILING_TICKS,
        )
        if len(ticks) == FAILING_TICKS and all(t.status == TickStatus.FAILURE for t in ticks):
            error = ticks[0].error.cls_name if ticks[0].error else "an error"
            problems.append(f"the Dagster sensor {sensor.instigator_name} keeps failing ({error})")
    return problems
