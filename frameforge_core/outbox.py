"""The transactional outbox: messages committed with the change they announce, sent later.

Writers call ``add`` inside the transaction that changes a job (or, for the mail that
confirms a new address, makes the user); nothing is sent then. A relay
(``relay``) sends unpublished rows in order and stamps them, so a crash between commit and
send only delays a message: delivery is at least once, and every consumer is idempotent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from frameforge_core.database import rows_changed
from frameforge_core.messaging import Message
from frameforge_core.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

Send = Callable[[OutboxMessage], None]


def add(session: Session, exchange: str, message: Message, trace_id: str | None) -> None:
    """Queue ``message`` for ``exchange``; it is sent only if the session commits."""
    session.add(
        OutboxMessage(
            exchange=exchange,
            routing_key=message.event,
            body=message.to_bytes().decode(),
            trace_id=trace_id,
        )
    )


def relay(
    sessions: Callable[[], AbstractContextManager[Session]], send: Send, limit: int = 100
) -> int:
    """Send up to ``limit`` unpublished messages, oldest first; returns how many were sent.

    Stops at the first message ``send`` refuses (raises): it and the rest stay for the next
    call, in order. Rows are locked with SKIP LOCKED on PostgreSQL, so several relays can run.
    """
    with sessions() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        sent = 0
        for row in rows:
            try:
                send(row)
            except Exception:
                log.warning("outbox: sending message %s failed; will retry", row.id, exc_info=True)
                break
            row.published_at = utcnow()
            sent += 1
        session.commit()
        return sent


def prune(
    sessions: Callable[[], AbstractContextManager[Session]], published_before: dt.datetime
) -> int:
    """Delete messages published before ``published_before``; returns how many."""
    with sessions() as session:
        deleted = rows_changed(
            session,
            delete(OutboxMessage).where(OutboxMessage.published_at < published_before),
        )
        session.commit()
        return deleted
