"""Jobs and their events through RabbitMQ (production's JobSource).

The sensor's side: up to ``BATCH`` messages of ``video.processing.jobs`` per evaluation,
taken with manual acks. A message is acknowledged (its offer settled) only once the run of
its job attempt exists in the instance, i.e. on the evaluation after the one that asked for
the run; until then it goes back to the queue when the evaluation's channel closes, so a
daemon killed mid-tick loses nothing. Malformed messages and unknown jobs go to the
dead-letter queue with the reason. A message about a job this deployment does not know (one
of another deployment on the same broker, or sent before its row could be read) is not parked
for good: it waits ``retry_delay_seconds`` in ``video.processing.jobs.retry`` and comes back,
up to ``max_returns`` times, then goes to the dead-letter queue (whose depth is alerted on).
Rows still queued after ``STALE_AFTER`` are offered too.

The worker's side: relay the outbox to the broker and consume notifications; one thread
does both. The consumer waits at most ``interval`` for a message, then the relay
runs; the backoff waits between delivery attempts keep relaying too, so a slow mail server
does not hold up new jobs. A message is acked only once it is done with: notified, or parked
in the dead-letter queue with the reason in ``x-frameforge-reason``. When the broker (or the
database) goes away the worker reconnects with backoff; unsent outbox rows just wait, and an
unacked message comes back.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Generator, Iterator

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.exceptions import AMQPError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from frameforge_core import messaging, outbox
from frameforge_core.backoff import Stopped
from frameforge_core.job_source import (
    BATCH,
    JobSource,
    MakeHandler,
    Offer,
    queued_rows,
    stale_before,
)
from frameforge_core.messaging import (
    DEFAULT_TOPOLOGY,
    JOBS_DLQ,
    JOBS_QUEUE,
    JOBS_RETRY_QUEUE,
    NOTIFICATIONS_DLQ,
    NOTIFICATIONS_QUEUE,
    TRACE_HEADER,
    JobMessage,
    Publisher,
    Topology,
    dead_letter,
    republish,
)
from frameforge_core.models import OutboxMessage, VideoJob

log = logging.getLogger(__name__)

RECONNECT_FIRST_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 30.0
_TRANSIENT = (AMQPError, SQLAlchemyError)  # the message comes back after a reconnect


RETURNS_HEADER = "x-frameforge-returns"  # how often a message about an unknown job came back


class RabbitMQJobSource(JobSource):
    def __init__(
        self,
        url: str,
        topology: Topology = DEFAULT_TOPOLOGY,
        retry_delay_seconds: float = 60.0,
        max_returns: int = 30,
    ):
        self.url, self.topology = url, topology
        self.retry_delay_seconds, self.max_returns = retry_delay_seconds, max_returns

    @contextlib.contextmanager
    def offers(self, session: Session) -> Iterator[Iterator[Offer]]:
        offers = self._offers(session)
        try:
            yield offers
        finally:
            offers.close()  # closes the channel: unsettled messages go back to the queue

    def _offers(self, session: Session) -> Generator[Offer]:
        try:
            connection, channel = messaging.connect(self.url, self.topology)
        except AMQPError as error:  # the stale rows still get their runs
            log.warning("RabbitMQ failed: %r", error)
        else:
            try:
                yield from self._messages(channel, session)
            except AMQPError as error:
                log.warning("RabbitMQ failed: %r", error)
            finally:
                if connection.is_open:
                    with contextlib.suppress(AMQPError):
                        connection.close()
        yield from queued_rows(session, queued_before=stale_before())

    def serve(
        self,
        stop: threading.Event,
        sessions: sessionmaker[Session],
        make_handler: MakeHandler,
        interval: float,
    ) -> None:
        Consumer(stop, sessions, self.url, self.topology, make_handler, interval).run()

    def _messages(self, channel: BlockingChannel, session: Session) -> Iterator[Offer]:
        """Offers of up to BATCH messages' jobs; what is not a job is dead-lettered, what is
        about an unknown job sent to wait; both are acked once the broker has the copy."""
        for _ in range(BATCH):
            method, properties, body = channel.basic_get(
                self.topology.name(JOBS_QUEUE), auto_ack=False
            )
            if method is None:
                return
            try:
                message = JobMessage.from_bytes(body)
            except ValueError as error:
                dead_letter(channel, self.topology.name(JOBS_DLQ), method.routing_key,
                            properties, body, str(error))  # fmt: skip
                channel.basic_ack(method.delivery_tag)
                continue
            job = session.scalar(select(VideoJob).where(VideoJob.id == message.job_id))
            if job is None:
                self._return_later(channel, method.routing_key, properties, body, message.job_id)
                channel.basic_ack(method.delivery_tag)
                continue
            yield Offer(job, message.attempt, functools.partial(_ack, channel, method.delivery_tag))

    def _return_later(
        self,
        channel: BlockingChannel,
        routing_key: str,
        properties: pika.BasicProperties,
        body: bytes,
        job_id: str,
    ) -> None:
        """Send a message about an unknown job to wait and come back; after ``max_returns``
        returns, to the dead-letter queue."""
        headers = dict(properties.headers or {})
        returns = int(headers.get(RETURNS_HEADER, 0))
        if returns >= self.max_returns:
            reason = f"no job {job_id} in this deployment after {returns} returns"
            dead_letter(channel, self.topology.name(JOBS_DLQ), routing_key, properties, body,
                        reason)  # fmt: skip
            log.error("RabbitMQ: %s: dead-lettered", reason)
            return
        headers[RETURNS_HEADER] = returns + 1
        delay_ms = round(self.retry_delay_seconds * 1000)
        republish(channel, self.topology.name(JOBS_RETRY_QUEUE), properties, body, headers,
                  delay_ms)  # fmt: skip
        log.warning("RabbitMQ: no job %s (yet?): it comes back in %g s", job_id,
                    self.retry_delay_seconds)  # fmt: skip


def _ack(channel: BlockingChannel, delivery_tag: int) -> None:
    """A lost ack only means the message comes back, and every consumer is idempotent."""
    try:
        channel.basic_ack(delivery_tag)
    except AMQPError as error:
        log.warning("RabbitMQ: ack failed (%r); the message will come back", error)


class OutboxPublisher:
    """``Publisher.send`` for the relay, connected only while there is something to send:
    pika's blocking connection answers heartbeats only while it is used, so an idle one would
    be dropped by the broker. A connection that failed once is dropped and made anew."""

    def __init__(self, url: str, topology: Topology):
        self._url, self._topology = url, topology
        self._publisher: Publisher | None = None

    def send(self, row: OutboxMessage) -> None:
        if self._publisher is None:
            self._publisher = Publisher(self._url, self._topology)
        try:
            self._publisher.send(row)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            with contextlib.suppress(AMQPError):
                publisher.close()


class Consumer:
    def __init__(
        self,
        stop: threading.Event,
        sessions: sessionmaker[Session],
        url: str,
        topology: Topology,
        make_handler: MakeHandler,
        interval: float,
    ) -> None:
        self._stop, self._sessions, self._url = stop, sessions, url
        self._topology = topology
        self._make_handler, self._interval = make_handler, interval
        self._publisher = OutboxPublisher(url, topology)
        self._last_relay = float("-inf")
        self._connected = False

    def run(self) -> None:
        """Until ``stop`` is set; connection losses are logged and survived."""
        delay = RECONNECT_FIRST_SECONDS
        try:
            while not self._stop.is_set():
                try:
                    self._serve()
                except Stopped:
                    return
                except _TRANSIENT as error:
                    if self._connected:  # it worked for a while: start the backoff again
                        delay = RECONNECT_FIRST_SECONDS
                    log.warning("worker: %r; reconnecting in %.0f s", error, delay)
                    self._stop.wait(delay)
                    delay = min(2 * delay, RECONNECT_MAX_SECONDS)
        finally:
            self._publisher.close()

    def _serve(self) -> None:
        self._connected = False
        connection = pika.BlockingConnection(messaging.connection_parameters(self._url))
        try:
            channel = connection.channel()
            self._topology.declare(channel)
            channel.basic_qos(prefetch_count=1)
            dead_letters = connection.channel()
            dead_letters.confirm_delivery()
            handler = self._make_handler(functools.partial(self._pause, connection))
            self._connected = True
            queue = self._topology.name(NOTIFICATIONS_QUEUE)
            log.info("worker: consuming %s", queue)
            for method, properties, body in channel.consume(
                queue, inactivity_timeout=self._interval
            ):
                if method is not None:
                    reason = handler.process(body, _trace_id(properties), _TRANSIENT)
                    if reason is not None:
                        dead_letter(
                            dead_letters, self._topology.name(NOTIFICATIONS_DLQ),
                            method.routing_key, properties,
                            body, reason,
                        )  # fmt: skip
                        log.error("worker: message dead-lettered: %s", reason)
                    channel.basic_ack(method.delivery_tag)
                self._relay_if_due()
                if self._stop.is_set():
                    return
        finally:
            if connection.is_open:
                with contextlib.suppress(AMQPError):
                    connection.close()  # what was not acked goes back to the queue

    def _pause(self, connection: BlockingConnection, seconds: float) -> None:
        """The handler's backoff: heartbeats and the relay go on; a stop ends it (Stopped)."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            connection.sleep(min(left, self._interval))
            self._relay_if_due()
        raise Stopped

    def _relay_if_due(self) -> None:
        if time.monotonic() - self._last_relay < self._interval:
            return
        self._last_relay = time.monotonic()
        if outbox.relay(self._sessions, self._publisher.send) == 0:
            self._publisher.close()  # nothing to send: do not keep an idle connection


def _trace_id(properties: pika.BasicProperties) -> str | None:
    trace_id = (properties.headers or {}).get(TRACE_HEADER)
    return trace_id if isinstance(trace_id, str) else None
