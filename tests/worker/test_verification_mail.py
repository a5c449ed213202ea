"""The verification mail leaves through the outbox: committed with the user's row, sent by
the worker's notifier with its retries, against a real SMTP server."""

import pytest
from sqlalchemy import select

from frameforge_api.services import accounts, verification
from frameforge_core import messaging, outbox
from frameforge_core.models import OutboxMessage, User, utcnow
from frameforge_worker import email
from tests.api.conftest import PASSWORD
from tests.worker import support
from tests.worker.conftest import BACKOFF_SECONDS

ADDRESS = "new.user@example.com"


def relay(sessions, notifier) -> list[str | None]:
    """What the worker does with the outbox (frameforge_core.job_source): each unsent row to
    the notifier; returns what the notifier said of each (None: done with)."""
    said: list[str | None] = []
    outbox.relay(sessions, lambda row: said.append(notifier.process(row.body.encode(), None)))
    return said


def test_registering_commits_the_mail_with_the_user_and_sends_nothing_itself(sessions, smtp_server):
    with sessions() as session:
        user = accounts.register(session, ADDRESS, PASSWORD, support.api_settings())
    with sessions() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
    assert row.routing_key == messaging.VERIFICATION_MAIL
    assert user.id in row.body
    assert smtp_server.messages == []


def test_a_refused_verification_mail_is_delivered_on_a_later_attempt(
    sessions, notifier, smtp_server, sleeps
):
    settings = support.api_settings()
    with sessions() as session:
        user_id = accounts.register(session, ADDRESS, PASSWORD, settings).id
    smtp_server.refuse(1)

    assert relay(sessions, notifier) == [None]

    assert sleeps == [BACKOFF_SECONDS]
    [mail] = smtp_server.messages
    assert smtp_server.recipients == [[ADDRESS]]
    assert mail["Subject"] == email.VERIFICATION_SUBJECT
    link = verification.link_in(mail.get_content())
    assert link is not None
    assert link.startswith(f"{support.PUBLIC_URL}/api/v1/auth/verify-email?token=")
    with sessions() as session:
        token = link.partition("token=")[2]
        assert verification.verify(session, token, settings, utcnow()).id == user_id
    assert relay(sessions, notifier) == []  # sent once: the row is stamped


def test_no_mail_for_an_address_confirmed_meanwhile(sessions, notifier, smtp_server):
    with sessions() as session:
        user = accounts.register(session, ADDRESS, PASSWORD, support.api_settings())
        user.email_verified_at = utcnow()
        session.commit()
    assert relay(sessions, notifier) == [None]
    assert smtp_server.messages == []


def test_asking_again_queues_another_mail(sessions, notifier, smtp_server):
    settings = support.api_settings()
    with sessions() as session:
        accounts.register(session, ADDRESS, PASSWORD, settings)
        user = session.scalars(select(User)).one()
        verification.request(session, user, settings, utcnow())
        session.commit()
    assert relay(sessions, notifier) == [None, None]
    assert len(smtp_server.messages) == 2


@pytest.mark.parametrize(
    "body",
    [
        b'{"event": "account.verification.mail", "user_id": 7, "link": "l", "expires_at": "e"}',
        b'{"event": "account.verification.mail", "user_id": "u"}',
        b'{"event": "account.verification.mail", "user_id": "u", "link": 1, "expires_at": "e"}',
    ],
)
def test_a_malformed_verification_message_is_given_up_with_a_reason(notifier, body):
    assert "malformed verification message" in (notifier.process(body, None) or "")
