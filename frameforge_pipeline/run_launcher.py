"""The embedded default's run launcher: Dagster's own, plus a health check of run workers.

Dagster's DefaultRunLauncher cannot tell whether a run's process is alive, so a run whose
process died with its process group (a pod kill, a cgroup OOM kill of daemon, code server
and run workers together) stays STARTED forever and holds a run slot. On one machine (the
embedded default, where every process shares the host) the run worker's pid, which Dagster
records when it starts the process, answers that: run monitoring (dagster.yaml) fails a run
whose process is gone, and run retries start it again. Other launchers bring their own check
(K8sRunLauncher asks Kubernetes); compose, where the daemon and the runs live in different
containers, relies on the start timeout and the maximum runtime instead.
"""

from __future__ import annotations

import os

import dagster as dg

from frameforge_pipeline.dagster_internals import HealthResult, run_worker_health

_PID_KEY = "pid"


class LocalRunLauncher(dg.DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> HealthResult:
        pid = _worker_pid(self._instance, run.run_id)
        if pid is None:
            return run_worker_health("unknown", "no run worker recorded yet")
        try:
            os.kill(pid, 0)  # signal 0: only asks whether the process exists
        except ProcessLookupError:
            return run_worker_health("failed", f"run worker {pid} is gone")
        except PermissionError:  # exists, under another user
            pass
        return run_worker_health("running")


def _worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the run's worker process: 'Started process for run (pid: N)'."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        if event is None or event.engine_event_data is None:
            continue
        pid = event.engine_event_data.metadata.get(_PID_KEY)
        if pid is not None and str(pid.value).isdigit():
            return int(str(pid.value))
    return None
