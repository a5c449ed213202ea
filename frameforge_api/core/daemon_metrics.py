"""The Dagster daemon's health as a metric, read from the Dagster instance at scrape time.

Without the daemon no job leaves ``queued``, but the API itself still serves: its readiness
(``/ready``) does not depend on the daemon, so a daemon outage never takes the API out of
service. It is reported here instead, ``frameforge_dagster_daemon_up`` (1 or 0), and alerted
on by ``DagsterDaemonDown`` (deploy/prometheus/alerts.yml); the reason is in the API's log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import dagster as dg
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from frameforge_pipeline.gateway.daemon_health import daemon_problems

log = logging.getLogger("frameforge.api.metrics")


class DaemonHealthCollector(Collector):
    """``frameforge_dagster_daemon_up``: 1 when the daemon heartbeats and its sensors work;
    0 when not, or when the instance cannot be read (then no job starts either)."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self._instance = instance

    def collect(self) -> Iterator[Metric]:
        try:
            problems = daemon_problems(self._instance)
        except Exception as error:  # any storage's errors, or the instance's deadline
            problems = [f"the Dagster instance cannot be read: {type(error).__name__}"]
        for problem in problems:
            log.warning("Dagster daemon: %s", problem)
        yield GaugeMetricFamily(
            "frameforge_dagster_daemon_up",
            "1 when the Dagster daemon heartbeats and its sensors work, else 0.",
            value=0 if problems else 1,
        )
