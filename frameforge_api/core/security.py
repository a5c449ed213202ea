"""Passwords and tokens: small pure functions (signed URLs: ``frameforge_core.signing``)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import bcrypt
import jwt

BCRYPT_ROUNDS = 12
ALGORITHM = "HS256"
# Checked against when the email is unknown, so a login takes as long either way.
_DUMMY_HASH = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(BCRYPT_ROUNDS))


class InvalidToken(Exception):
    """A token that is malformed, tampered with, expired or of the wrong kind."""


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def verify_password(password: str, password_hash: str | None) -> bool:
    """False for a wrong password; with no hash (unknown user) it still spends the time."""
    if password_hash is None:
        bcrypt.checkpw(password.encode(), _DUMMY_HASH)
        return False
    return bcrypt.checkpw(password.encode(), password_hash.encode())


def create_token(
    subject: str, kind: str, key: str, lifetime: dt.timedelta, now: dt.datetime, **claims: Any
) -> str:
    payload = {"sub": subject, "type": kind, "iat": now, "exp": now + lifetime, **claims}
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def decode_token(token: str, kind: str, key: str) -> dict[str, Any]:
    """The claims of a valid token of ``kind``. Raises InvalidToken otherwise."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat", "type"]}
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    if claims["type"] != kind:
        raise InvalidToken(f"not an {kind} token")
    return claims
