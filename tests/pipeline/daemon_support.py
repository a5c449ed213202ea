"""Heartbeats and sensor ticks as the Dagster daemon writes them, for readiness tests."""

from __future__ import annotations

import time

import dagster as dg
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.remote_origin import (
    InProcessCodeLocationOrigin,
    RemoteInstigatorOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    TickData,
    TickStatus,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._daemon.types import DaemonHeartbeat
from dagster._utils.error import SerializableErrorInfo


def beat(instance: dg.DagsterInstance, seconds_ago: float = 0.0) -> None:
    """Every daemon the instance needs reports, ``seconds_ago``."""
    for daemon_type in instance.get_required_daemon_types():
        heartbeat = DaemonHeartbeat(time.time() - seconds_ago, daemon_type, None, None)
        instance.add_daemon_heartbeat(heartbeat)


def sensor_ticks(instance: dg.DagsterInstance, name: str, *statuses: TickStatus) -> None:
    """Ticks of sensor ``name``, oldest first, a failure carrying an OperationalError."""
    repository = RemoteRepositoryOrigin(
        InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="frameforge")), "repo"
    )
    state = InstigatorState(
        RemoteInstigatorOrigin(repository, name),
        InstigatorType.SENSOR,
        InstigatorStatus.DECLARED_IN_CODE,
    )
    instance.add_instigator_state(state)
    for offset, status in enumerate(statuses):
        failed = status == TickStatus.FAILURE
        instance.create_tick(
            TickData(
                instigator_origin_id=state.instigator_origin_id,
                instigator_name=name,
                instigator_type=InstigatorType.SENSOR,
                status=status,
                timestamp=time.time() - len(statuses) + offset,
                selector_id=state.selector_id,
                run_ids=None if failed else [],
                error=SerializableErrorInfo("db down", [], "OperationalError") if failed else None,
            )
        )
