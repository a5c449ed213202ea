"""Users and their tokens: registration, login, refresh-token rotation, signing out.

A login is a family of refresh tokens (each one traded for the next); the family's id is
the ``sid`` claim of every access token issued with them. Signing out, or a replayed
refresh token, revokes the family, and the access tokens naming it are refused from the
next request on (``signed_in``), not an hour later when they expire.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from frameforge_api.core.config import Settings
from frameforge_api.core.security import (
    InvalidToken,
    create_token,
    decode_token,
    hash_password,
    verify_password,
)
from frameforge_api.services import verification
from frameforge_core.database import rows_changed
from frameforge_core.errors import Conflict, NotAuthenticated
from frameforge_core.models import RefreshToken, User, new_id
from frameforge_core.settings import LinkSettings


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def register(session: Session, email: str, password: str, settings: LinkSettings) -> User:
    """Create a user, and the mail that asks them to confirm their address in the same
    transaction (services/verification.py). Raises Conflict when the email is taken."""
    user = User(id=new_id(), email=email.lower(), password_hash=hash_password(password))
    session.add(user)
    verification.request(session, user, settings, dt.datetime.now(dt.UTC))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("an account with this email already exists") from None
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The user with these credentials. Raises NotAuthenticated without saying which was
    wrong."""
    user = session.scalar(select(User).where(User.email == email.lower()))
    if not verify_password(password, user.password_hash if user else None) or user is None:
        raise NotAuthenticated("invalid email or password")
    return user


def issue_tokens(
    session: Session, user_id: str, settings: Settings, now: dt.datetime, family_id: str = ""
) -> TokenPair:
    """A new access token and a new refresh token (in ``family_id``, or a new family)."""
    refresh = RefreshToken(
        user_id=user_id,
        family_id=family_id or new_id(),
        expires_at=now + dt.timedelta(seconds=settings.refresh_expires_in),
    )
    session.add(refresh)
    session.commit()
    key = settings.signing_key
    access_lifetime = dt.timedelta(seconds=settings.jwt_expires_in)
    return TokenPair(
        access_token=create_token(
            user_id, "access", key, access_lifetime, now, sid=refresh.family_id
        ),
        refresh_token=create_token(
            user_id, "refresh", key, refresh.expires_at - now, now, jti=refresh.id
        ),
        expires_in=settings.jwt_expires_in,
    )


def signed_in(user_id: str, login: str | None) -> ColumnElement[bool]:
    """The condition on ``users`` that holds for the row of ``user_id`` while their login
    ``login`` (an access token's ``sid``) is not signed out: one more condition in the query
    that reads the caller's row, not another round trip.

    A login is live while a refresh token of its family is not revoked (signing out and a
    replay revoke every one); a family whose rows are gone is no login either. Without
    ``login`` (an access token issued before they named their login) the user's row is
    enough: such a token works until it expires, at most an hour after the upgrade.
    """
    condition = User.id == user_id
    if login is None:
        return condition
    live = (
        select(RefreshToken.id)
        .where(
            RefreshToken.family_id == login,
            RefreshToken.user_id == User.id,
            RefreshToken.revoked_at.is_(None),
        )
        .exists()
    )
    return condition & live


def sign_out(session: Session, token: str, settings: Settings, now: dt.datetime) -> None:
    """Revoke the login ``token`` belongs to: it and every refresh token of its family (the
    ones it was traded for) stop working. Signing out twice is fine. Raises
    NotAuthenticated for a token this API did not sign (or a refresh token that expired)."""
    try:
        claims = decode_token(token, "refresh", settings.signing_key)
    except InvalidToken:
        raise NotAuthenticated("invalid or expired refresh token") from None
    stored = session.get(RefreshToken, claims.get("jti", ""))
    if stored is None:  # its account was deleted: nothing left to revoke
        return
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == stored.family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.commit()


def rotate(session: Session, token: str, settings: Settings, now: dt.datetime) -> TokenPair:
    """Trade a refresh token for a new pair. A token used twice revokes its whole family.

    Raises NotAuthenticated for an invalid, expired, reused or revoked token.
    """
    rejected = NotAuthenticated("invalid or expired refresh token")
    try:
        claims = decode_token(token, "refresh", settings.signing_key)
    except InvalidToken:
        raise rejected from None
    stored = session.get(RefreshToken, claims.get("jti", ""))
    if stored is None or stored.revoked_at is not None:
        raise rejected
    spent = rows_changed(  # one atomic check-and-set: two concurrent uses cannot both win
        session,
        update(RefreshToken)
        .where(
            RefreshToken.id == stored.id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(used_at=now),
    )
    if spent != 1:  # replayed: someone else holds this family
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == stored.family_id)
            .values(revoked_at=now)
        )
        session.commit()
        raise rejected
    return issue_tokens(session, stored.user_id, settings, now, stored.family_id)
