"""Email verification: no mail goes to an address until its owner followed the signed link
mailed to it at registration.

The link carries a token signed with the API's key, naming the user and the address, valid
``LIFETIME``; following it (``GET /auth/verify-email``) stamps ``users.email_verified_at``.
Until then the worker sends a job's outcome by webhook only (``frameforge_worker.notice``):
the email about a job that finished before verification is dropped, not kept for later (the
page and the API show the job; an email days later would be news of nothing). So nobody
can make FrameForge mail an address they do not read. The verification mail itself says
nothing the user typed: its subject and text are fixed, only the link varies.

The API does not mail it itself: it puts the link in the outbox in the transaction that
makes the user (``request``), and the worker mails it (``frameforge_worker.notifier``) with
the retries of every mail, so an SMTP server that refuses or is down for a moment delays the
mail instead of losing it; a mail lost even so is asked for again with
``POST /auth/verification``.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from frameforge_api.core.security import InvalidToken, create_token, decode_token
from frameforge_core import logs, outbox
from frameforge_core.errors import NotAuthenticated
from frameforge_core.messaging import EVENTS_EXCHANGE, VerificationMail
from frameforge_core.models import User
from frameforge_core.settings import LinkSettings

KIND = "verify-email"
LIFETIME = dt.timedelta(days=2)
PATH = "/api/v1/auth/verify-email"
REFUSED = "invalid or expired verification link: sign in and ask for a new one"
_LINK = re.compile(rf"https?://\S+{re.escape(PATH)}\?token=[A-Za-z0-9._%-]+")


def link_in(text: str) -> str | None:
    """The verification link in a mail's text, if there is one."""
    found = _LINK.search(text)
    return found.group(0) if found else None


def link(settings: LinkSettings, user_id: str, address: str, now: dt.datetime) -> str:
    """The signed link that verifies the user's ``address``."""
    token = create_token(user_id, KIND, settings.signing_key, LIFETIME, now, email=address)
    return f"{settings.public_url.rstrip('/')}{PATH}?{urlencode({'token': token})}"


def request(session: Session, user: User, settings: LinkSettings, now: dt.datetime) -> None:
    """Queue the mail with a new link for ``user`` in the outbox: it is sent by the worker
    (with its retries) if the session commits, with the change that asked for it."""
    mail = VerificationMail(user.id, link(settings, user.id, user.email, now),
                            (now + LIFETIME).isoformat())  # fmt: skip
    outbox.add(session, EVENTS_EXCHANGE, mail, logs.current_trace_id())


def verify(session: Session, token: str, settings: LinkSettings, now: dt.datetime) -> User:
    """Stamp the address of the link's user as verified (again: no change). Raises
    NotAuthenticated for a forged or expired link, or one of an account that is gone."""
    try:
        claims = decode_token(token, KIND, settings.signing_key)
    except InvalidToken:
        raise NotAuthenticated(REFUSED) from None
    user = session.get(User, claims["sub"])
    if user is None or user.email != claims.get("email"):
        raise NotAuthenticated(REFUSED)
    if user.email_verified_at is None:
        user.email_verified_at = now
        session.commit()
    return user
