"""Email verification: no mail goes to an address until its owner followed the signed link
mailed to it at registration.

The link carries a token signed with the API's key, naming the user and the address, valid
``LIFETIME``; following it (``GET /auth/verify-email``) stamps ``users.email_verified_at``.
Until then the worker sends a job's outcome by webhook only (``frameforge_worker.notice``):
the email about a job that finished before verification is dropped, not kept for later (the
page and the API show the job; an email days later would be news of nothing). So nobody
can make FrameForge mail an address they do not read. The verification mail itself says
nothing the user typed: its subject and text are fixed, only the link varies.

The API sends it through the transport the worker's mail takes too (``frameforge_core.mail``:
``FRAMEFORGE_SMTP_*``, or ``$FRAMEFORGE_HOME/mail``) after the registration's response; a
mail lost on the way is asked for again with ``POST /auth/verification``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from email.message import EmailMessage
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from frameforge_api.core.config import Settings
from frameforge_api.core.security import InvalidToken, create_token, decode_token
from frameforge_core.errors import NotAuthenticated
from frameforge_core.mail import DeliveryError, MailTransport, addressed
from frameforge_core.models import User

log = logging.getLogger(__name__)

KIND = "verify-email"
LIFETIME = dt.timedelta(days=2)
SUBJECT = "Confirm your email address for FrameForge"
PATH = "/api/v1/auth/verify-email"
REFUSED = "invalid or expired verification link: sign in and ask for a new one"
_LINK = re.compile(rf"https?://\S+{re.escape(PATH)}\?token=[A-Za-z0-9._%-]+")


def link_in(text: str) -> str | None:
    """The verification link in a mail's text, if there is one."""
    found = _LINK.search(text)
    return found.group(0) if found else None


def link(settings: Settings, user_id: str, address: str, now: dt.datetime) -> str:
    """The signed link that verifies the user's ``address``."""
    token = create_token(user_id, KIND, settings.signing_key, LIFETIME, now, email=address)
    return f"{settings.public_url.rstrip('/')}{PATH}?{urlencode({'token': token})}"


def compose(recipient: str, url: str, sender: str, now: dt.datetime) -> EmailMessage:
    """The verification mail: a fixed subject and text around the link."""
    message = addressed(sender, recipient, f"verify.{uuid.uuid4().hex}", now)
    message["Subject"] = SUBJECT
    expires = now + LIFETIME
    message.set_content(
        "Hello,\n\n"
        "someone, probably you, made a FrameForge account with this address. Follow this "
        f"link to confirm it (it works until {expires:%Y-%m-%d %H:%M} UTC):\n\n"
        f"{url}\n\n"
        "FrameForge sends no other email to this address until it is confirmed. If you did "
        "not make the account, ignore this message.\n",
        cte="7bit",  # ASCII, and the link stays one line
    )
    return message


def send(mail: MailTransport, sender: str, settings: Settings, user_id: str, address: str) -> bool:
    """Mail the user a verification link; False (logged) when the transport refused it."""
    now = dt.datetime.now(dt.UTC)
    try:
        detail = mail.send(compose(address, link(settings, user_id, address, now), sender, now))
    except DeliveryError as error:
        log.warning("verification mail for user %s not sent: %s", user_id, error)
        return False
    log.info("verification mail for user %s sent: %s", user_id, detail)
    return True


def verify(session: Session, token: str, settings: Settings, now: dt.datetime) -> User:
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
