"""Where jobs come from and how their events travel: one interface, two implementations.

- ``DatabaseJobSource`` (the embedded default): the app database is the queue. The sensor is
  offered every ``queued`` row; the worker's relay hands finished jobs' events straight to
  the notifier.
- ``RabbitMQJobSource`` (production, ``RABBITMQ_URL``): the relay publishes the outbox to
  RabbitMQ; the sensor is offered ``video.processing.jobs`` messages (plus rows still queued
  after ``STALE_AFTER``, whose message expired or was lost); the worker consumes
  ``video.events.notifications`` (``frameforge_core.rabbitmq_source``).

``job_source_choice.job_source`` is the one place that chooses; the sensor (through its
Dagster resource) and the worker both call it. The sensor settles an offer once the job needs
nothing more from the queue (its run exists, or it is superseded or cancelled). The waits of
both implementations are ``frameforge_core.backoff``'s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from frameforge_core import outbox
from frameforge_core.backoff import Sleep, stoppable_sleep
from frameforge_core.lifecycle import JobStatus
from frameforge_core.messaging import JOB_COMPLETED, JOB_FAILED, VERIFICATION_MAIL
from frameforge_core.models import OutboxMessage, VideoJob, utcnow

log = logging.getLogger(__name__)

BATCH = 50  # jobs offered per sensor evaluation
STALE_AFTER = dt.timedelta(minutes=15)


class EventHandler(Protocol):
    """What the worker does with a finished job's event (the notifier)."""

    def process(
        self, body: bytes, trace_id: str | None, transient: tuple[type[Exception], ...] = ...
    ) -> str | None:
        """None when the event is done with, else why it was given up on. Raises Stopped and
        the ``transient`` errors: the event is then handled again later."""
        ...


MakeHandler = Callable[[Sleep], EventHandler]


@dataclass
class Offer:
    """A job the sensor may start a run for, as attempt ``attempt`` asked."""

    job: VideoJob
    attempt: int
    settle: Callable[[], None] = field(default=lambda: None)


class JobSource(ABC):
    @abstractmethod
    def offers(self, session: Session) -> contextlib.AbstractContextManager[Iterator[Offer]]:
        """Jobs waiting for a run, at most ``BATCH`` of each kind; what is not a job is
        dealt with here (dead-lettered). Offers not settled by the end of the block come
        back at a later evaluation."""

    @abstractmethod
    def serve(
        self,
        stop: threading.Event,
        sessions: sessionmaker[Session],
        make_handler: MakeHandler,
        interval: float,
    ) -> None:
        """The worker: relay the outbox every ``interval`` and hand each finished job's event
        to the handler, until ``stop`` is set. Survives losing the database or the broker."""


def queued_rows(session: Session, queued_before: dt.datetime | None = None) -> Iterator[Offer]:
    """Offers of the oldest ``queued`` rows (only those queued before ``queued_before``)."""
    query = select(VideoJob).where(VideoJob.status == JobStatus.QUEUED)
    if queued_before is not None:
        query = query.where(VideoJob.updated_at < queued_before)
    for job in session.scalars(query.order_by(VideoJob.seq).limit(BATCH)):
        yield Offer(job, job.attempt)


class DatabaseJobSource(JobSource):
    """The embedded default: no broker."""

    @contextlib.contextmanager
    def offers(self, session: Session) -> Iterator[Iterator[Offer]]:
        yield queued_rows(session)

    def serve(
        self,
        stop: threading.Event,
        sessions: sessionmaker[Session],
        make_handler: MakeHandler,
        interval: float,
    ) -> None:
        """Every ``interval``, unsent outbox rows are handled here: ``video.job.created``
        needs nothing (the sensor reads the rows), a finished job's event and a verification
        mail go to the handler.

        A row that cannot be handled is logged and counts as sent (the notification log
        keeps its attempts): without a dead-letter queue, retrying it forever would block
        the rows behind it.
        """
        handler = make_handler(stoppable_sleep(stop))

        def send(row: OutboxMessage) -> None:
            if row.routing_key not in (JOB_COMPLETED, JOB_FAILED, VERIFICATION_MAIL):
                return
            reason = handler.process(row.body.encode(), row.trace_id)
            if reason is not None:
                log.error("worker: outbox message %s not notified: %s", row.id, reason)

        while not stop.is_set():
            try:
                outbox.relay(sessions, send)
            except SQLAlchemyError:
                log.warning("worker: the database failed; trying again", exc_info=True)
            stop.wait(interval)


def stale_before() -> dt.datetime:
    """Rows queued before this lost their message, or it expired: offer them anyway."""
    return utcnow() - STALE_AFTER
