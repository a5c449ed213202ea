"""Metrics of the work other processes do, read from the application database at scrape time.

Runs happen in Dagster run workers, notifications in the notifier, on other pods: a counter
in one of those processes would be lost with it, and the API could not see it. Every one
of them writes its outcome to the application database, so the API computes these metrics
from there, in two grouped queries per scrape, and they are right whoever did the work.

Being derived from rows, the counters can go down: a retried job leaves ``failed`` for
``queued``, a deleted account takes its jobs along. Prometheus reads a decrease as a counter
reset, which is harmless for totals and close enough for rates at these volumes. Every API
replica exports the same values: aggregate them with ``max``, not ``sum``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from frameforge_core.lifecycle import ENDED, JobStatus
from frameforge_core.models import NotificationLog, VideoJob

log = logging.getLogger("frameforge.api.metrics")

# Runs take seconds to tens of minutes.
DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
DELIVERY_OUTCOMES = ("sent", "failed")


class JobMetricsCollector(Collector):
    """Pipeline and notifier metrics, computed from the application database at scrape time.

    When the database does not answer, the scrape goes on without them (a warning is
    logged), so the API's own metrics still arrive.
    """

    def __init__(
        self, sessions: sessionmaker[Session], buckets: Sequence[float] = DURATION_BUCKETS
    ) -> None:
        self._sessions = sessions
        self._buckets = tuple(float(bound) for bound in buckets)
        seconds = VideoJob.processing_seconds
        self._jobs = select(
            VideoJob.status,
            func.count(),
            func.coalesce(func.sum(VideoJob.frame_count), 0),
            func.count(seconds),
            func.coalesce(func.sum(seconds), 0.0),
            *(func.sum(case((seconds <= bound, 1), else_=0)) for bound in self._buckets),
        ).group_by(VideoJob.status)
        self._notifications = select(
            NotificationLog.status,
            func.count(),
            func.sum(case((NotificationLog.attempt > 1, 1), else_=0)),
        ).group_by(NotificationLog.status)

    def collect(self) -> Iterator[Metric]:
        try:
            with self._sessions() as session:
                jobs = [tuple(row) for row in session.execute(self._jobs)]
                notifications = [tuple(row) for row in session.execute(self._notifications)]
        except SQLAlchemyError:
            log.warning("the application database did not answer: no job metrics", exc_info=True)
            return
        yield from self._job_metrics(jobs)
        yield from _notification_metrics(notifications)

    def _job_metrics(self, rows: Sequence[tuple[Any, ...]]) -> Iterator[Metric]:
        jobs: dict[str, int] = {}
        frames, timed, seconds, within = 0, 0, 0.0, [0] * len(self._buckets)
        for status, count, row_frames, row_timed, row_seconds, *row_within in rows:
            jobs[status] = int(count)
            frames += int(row_frames)
            timed += int(row_timed)
            seconds += float(row_seconds)
            within = [n + int(m) for n, m in zip(within, row_within, strict=True)]
        ended = CounterMetricFamily(
            "video_processing_total", "Jobs whose latest run ended, by outcome.", labels=["status"]
        )
        for status in sorted(ENDED):
            ended.add_metric([status], jobs.get(status, 0))
        yield ended
        yield CounterMetricFamily(
            "video_frames_extracted_total", "Frames extracted, over every job.", value=frames
        )
        yield GaugeMetricFamily(
            "queue_depth",
            "Jobs waiting for a run (status queued).",
            value=jobs.get(JobStatus.QUEUED, 0),
        )
        buckets = [(str(bound), n) for bound, n in zip(self._buckets, within, strict=True)]
        yield HistogramMetricFamily(
            "video_processing_duration_seconds",
            "Wall time of each job's latest run, start to end.",
            buckets=[*buckets, ("+Inf", timed)],
            sum_value=seconds,
        )


def _notification_metrics(rows: Sequence[tuple[Any, ...]]) -> Iterator[Metric]:
    deliveries = CounterMetricFamily(
        "notification_delivery_total",
        "Notification deliveries (email, webhook), by outcome.",
        labels=["status"],
    )
    sent = {status: int(count) for status, count, _ in rows}
    for status in sorted({*DELIVERY_OUTCOMES, *sent}):
        deliveries.add_metric([status], sent.get(status, 0))
    yield deliveries
    yield CounterMetricFamily(
        "notification_retry_attempts_total",
        "Deliveries that were a retry (attempt 2 or later).",
        value=sum(int(retries) for _, _, retries in rows),
    )
