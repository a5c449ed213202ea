"""RabbitMQ names, topology and the job message schema: one definition for every component.

Exchanges and queues come from DESIGN.md. Deployments that share a broker (a staging stack on
the production broker's vhost) keep apart by a prefix (``FRAMEFORGE_RABBITMQ_PREFIX``, say
``staging.``) that ``Topology`` puts before every exchange and queue name; a vhost of its own
in ``RABBITMQ_URL`` does the same more strictly. The outbox stores the unprefixed exchange
name, so rows mean the same in every deployment. ``Topology.declare`` is idempotent (run it at
every start); ``Publisher`` sends persistent messages and waits for the broker's confirm.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from frameforge_core import connection_bounds
from frameforge_core.models import OutboxMessage

if TYPE_CHECKING:  # pika is imported where it is used: runs and the API never need it
    import pika
    from pika.adapters.blocking_connection import BlockingChannel

JOBS_EXCHANGE = "frameforge.video.jobs"
EVENTS_EXCHANGE = "frameforge.video.events"
JOBS_QUEUE = "video.processing.jobs"
JOBS_DLQ = "video.processing.dlq"
NOTIFICATIONS_QUEUE = "video.events.notifications"
NOTIFICATIONS_DLQ = "video.events.notifications.dlq"  # the notifier parks what it gives up on
# messages about jobs this deployment does not know wait here, then go back to the jobs queue
JOBS_RETRY_QUEUE = "video.processing.jobs.retry"
QUEUES = (JOBS_QUEUE, JOBS_DLQ, JOBS_RETRY_QUEUE, NOTIFICATIONS_QUEUE, NOTIFICATIONS_DLQ)
JOB_CREATED = "video.job.created"
JOB_COMPLETED = "video.job.completed"
JOB_FAILED = "video.job.failed"
VERIFICATION_MAIL = "account.verification.mail"  # a link to confirm a new address, to be mailed

_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
JOBS_TTL_MS = 60 * 60 * 1000  # 1 h
NOTIFICATIONS_TTL_MS = 30 * 60 * 1000  # 30 min
SCHEMA_VERSION = 1
TRACE_HEADER = "x-trace-id"
REASON_HEADER = "x-frameforge-reason"  # why a message was dead-lettered
ROUTING_KEY_HEADER = "x-frameforge-routing-key"  # where it was going
_REASON_LENGTH = 1000


@dataclass(frozen=True)
class Topology:
    """The exchange and queue names of one deployment: DESIGN.md's, behind ``prefix``."""

    prefix: str = ""

    def name(self, base: str) -> str:
        """The name of exchange or queue ``base`` (one of the constants above) here."""
        return f"{self.prefix}{base}"

    def declare(self, channel: BlockingChannel) -> None:
        """Exchanges, queues and bindings; declaring them again changes nothing."""
        n = self.name
        channel.exchange_declare(n(JOBS_EXCHANGE), exchange_type="topic", durable=True)
        channel.exchange_declare(n(EVENTS_EXCHANGE), exchange_type="topic", durable=True)
        channel.queue_declare(n(JOBS_DLQ), durable=True)
        channel.queue_declare(
            n(JOBS_QUEUE),
            durable=True,
            arguments={
                "x-message-ttl": JOBS_TTL_MS,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": n(JOBS_DLQ),
            },
        )
        channel.queue_bind(n(JOBS_QUEUE), n(JOBS_EXCHANGE), routing_key=JOB_CREATED)
        channel.queue_declare(  # no consumer: each message waits its expiration, then returns
            n(JOBS_RETRY_QUEUE),
            durable=True,
            arguments={
                "x-dead-letter-exchange": n(JOBS_EXCHANGE),
                "x-dead-letter-routing-key": JOB_CREATED,
            },
        )
        channel.queue_declare(  # an event that waits 30 min is parked, not dropped
            n(NOTIFICATIONS_QUEUE),
            durable=True,
            arguments={
                "x-message-ttl": NOTIFICATIONS_TTL_MS,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": n(NOTIFICATIONS_DLQ),
            },
        )
        for key in (JOB_COMPLETED, JOB_FAILED, VERIFICATION_MAIL):
            channel.queue_bind(n(NOTIFICATIONS_QUEUE), n(EVENTS_EXCHANGE), routing_key=key)
        channel.queue_declare(n(NOTIFICATIONS_DLQ), durable=True)


DEFAULT_TOPOLOGY = Topology()


def dead_letter(
    channel: BlockingChannel,
    queue: str,
    routing_key: str,
    properties: pika.BasicProperties,
    body: bytes,
    reason: str,
) -> None:
    """Park a message its consumer cannot act on in ``queue``, as it was, with its headers,
    where it was going and why. Wait for the broker's confirm before acking the original."""
    headers = dict(properties.headers or {})
    headers[REASON_HEADER] = reason[:_REASON_LENGTH]
    headers[ROUTING_KEY_HEADER] = routing_key
    republish(channel, queue, properties, body, headers)


def republish(
    channel: BlockingChannel,
    queue: str,
    properties: pika.BasicProperties,
    body: bytes,
    headers: dict[str, Any],
    expiration_ms: int | None = None,
) -> None:
    """Put a message, as it was but with ``headers``, straight into ``queue`` (persistent;
    with ``expiration_ms`` it leaves that queue when the time is up)."""
    import pika

    channel.basic_publish(
        "",
        queue,
        body,
        pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type=properties.content_type,
            message_id=properties.message_id,
            headers=headers,
            expiration=None if expiration_ms is None else str(expiration_ms),
        ),
        mandatory=True,
    )


@dataclass(frozen=True)
class JobMessage:
    """The body of every job message; ``version`` lets consumers refuse what they don't know."""

    job_id: str
    video_id: str
    user_id: str
    event: str
    attempt: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    version: int = SCHEMA_VERSION

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> JobMessage:
        """Raises ValueError for a malformed body or an unknown schema version."""
        try:
            fields = json.loads(body)
            message = cls(**fields)
        except (json.JSONDecodeError, TypeError) as error:
            raise ValueError(f"malformed job message: {error}") from None
        if message.version != SCHEMA_VERSION:
            raise ValueError(f"unknown job message version {message.version}")
        ids = (message.job_id, message.video_id, message.user_id)
        if not all(isinstance(text, str) and _ID.fullmatch(text) for text in ids):
            raise ValueError("malformed job message: ids must be 1-64 letters, digits or -._:")
        if not isinstance(message.event, str) or type(message.attempt) is not int:
            raise ValueError("malformed job message: event must be text, attempt a number")
        return message


@dataclass(frozen=True)
class VerificationMail:
    """The body of a ``VERIFICATION_MAIL`` message: mail the user ``link``, the signed link
    that confirms their address (made by the API, which holds the key), valid until
    ``expires_at`` (ISO 8601). The worker reads the address from the user's row."""

    user_id: str
    link: str
    expires_at: str
    event: str = VERIFICATION_MAIL
    version: int = SCHEMA_VERSION

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, body: bytes) -> VerificationMail:
        """Raises ValueError for a malformed body or an unknown schema version."""
        try:
            message = cls(**json.loads(body))
        except (json.JSONDecodeError, TypeError) as error:
            raise ValueError(f"malformed verification message: {error}") from None
        if message.version != SCHEMA_VERSION:
            raise ValueError(f"unknown verification message version {message.version}")
        if not isinstance(message.user_id, str) or not _ID.fullmatch(message.user_id):
            raise ValueError("malformed verification message: bad user id")
        if not isinstance(message.link, str) or not isinstance(message.expires_at, str):
            raise ValueError("malformed verification message: link and expiry must be text")
        return message


Message = JobMessage | VerificationMail


def message_from_bytes(body: bytes) -> Message:
    """The message ``body`` holds, told apart by its event. Raises ValueError for a
    malformed body or an unknown schema version."""
    try:
        mail = json.loads(body).get("event") == VERIFICATION_MAIL
    except (json.JSONDecodeError, AttributeError):
        mail = False  # JobMessage says what is wrong with it
    return VerificationMail.from_bytes(body) if mail else JobMessage.from_bytes(body)


def connection_parameters(url: str) -> pika.URLParameters:
    """``url``'s parameters, with the bounds of ``connection_bounds`` where the URL sets none
    of its own (``?heartbeat=60`` and the like keep theirs)."""
    import pika

    parameters = pika.URLParameters(url)
    given = parse_qs(urlsplit(url).query)
    bounds = {
        "socket_timeout": connection_bounds.RABBITMQ_SOCKET_TIMEOUT_SECONDS,
        "stack_timeout": connection_bounds.RABBITMQ_STACK_TIMEOUT_SECONDS,
        "heartbeat": connection_bounds.RABBITMQ_HEARTBEAT_SECONDS,
        "blocked_connection_timeout": connection_bounds.RABBITMQ_BLOCKED_TIMEOUT_SECONDS,
        "tcp_options": connection_bounds.tcp_keepalive_options(),
    }
    for name, value in bounds.items():
        if name not in given:
            setattr(parameters, name, value)
    return parameters


def connect(
    url: str, topology: Topology = DEFAULT_TOPOLOGY
) -> tuple[pika.BlockingConnection, BlockingChannel]:
    """A connection and a confirming channel on the declared topology."""
    import pika

    connection = pika.BlockingConnection(connection_parameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        topology.declare(channel)
    except BaseException:
        connection.close()
        raise
    return connection, channel


class Publisher:
    """Persistent messages with publisher confirms on one channel."""

    def __init__(self, url: str, topology: Topology = DEFAULT_TOPOLOGY):
        self._topology = topology
        self._connection, self._channel = connect(url, topology)

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        trace_id: str | None = None,
        message_id: str | None = None,
    ) -> None:
        """Returns once the broker has the message. Raises pika's errors when it refuses
        it (unroutable, nacked) or the connection drops: the caller keeps it to retry."""
        import pika

        self._channel.basic_publish(
            exchange,
            routing_key,
            body,
            pika.BasicProperties(
                delivery_mode=pika.DeliveryMode.Persistent,
                content_type="application/json",
                message_id=message_id or str(uuid.uuid4()),
                headers={TRACE_HEADER: trace_id} if trace_id else None,
            ),
            mandatory=True,
        )

    def send(self, row: OutboxMessage) -> None:
        """Publish an outbox row (the relay's ``send``) to this deployment's exchange."""
        self.publish(
            self._topology.name(row.exchange),
            row.routing_key,
            row.body.encode(),
            trace_id=row.trace_id,
            message_id=f"outbox-{row.id}",
        )

    @property
    def is_open(self) -> bool:
        return bool(self._connection.is_open)

    def close(self) -> None:
        if self._connection.is_open:
            self._connection.close()
