"""Device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): proof
that a client signed in to an account before, so that guesses spread over many addresses
slow down everyone else's logins on the account but never lock its owner out.

A successful login sets ``frameforge_device``: a token signed with the API's key naming
the account and a random nonce, valid a year, HttpOnly, SameSite=Strict, sent only to the
auth endpoints (Secure when the public URL is https). A login that presents a valid one for
the account it signs in to is exempt from the account-wide limit on failures; its own
failures are counted per nonce, and past ``AuthLimits.device_failures`` it exempts no more.
"""

from __future__ import annotations

import datetime as dt
import secrets

from fastapi import Response

from frameforge_api.core.config import Settings
from frameforge_api.core.security import InvalidToken, create_token, decode_token

COOKIE = "frameforge_device"
KIND = "device"
LIFETIME = dt.timedelta(days=365)
PATH = "/api/v1/auth"


def issue(response: Response, account: str, settings: Settings, now: dt.datetime) -> None:
    """Set a new device cookie for ``account`` (a lowercased email) on ``response``."""
    token = create_token(account, KIND, settings.signing_key, LIFETIME, now,
                         nonce=secrets.token_urlsafe(16))  # fmt: skip
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(LIFETIME.total_seconds()),
        path=PATH,
        secure=settings.public_url.startswith("https://"),
        httponly=True,
        samesite="strict",
    )


def nonce_for(cookie: str | None, account: str, settings: Settings) -> str | None:
    """The nonce of a valid device cookie of ``account``; None for no cookie, another
    account's, an expired or a forged one."""
    if not cookie:
        return None
    try:
        claims = decode_token(cookie, KIND, settings.signing_key)
    except InvalidToken:
        return None
    nonce = claims.get("nonce")
    return nonce if claims["sub"] == account and isinstance(nonce, str) else None
