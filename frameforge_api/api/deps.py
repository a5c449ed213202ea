"""Typed dependencies, so a route's signature reads as a sentence.

FastAPI runs every plain ``def`` dependency in the threadpool, one hop each (a few hundred
microseconds on a busy machine); the ones that only read the app's state or check a token
are ``async def`` and run in the event loop, so only database work takes a hop.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import dagster as dg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, sessionmaker

from frameforge_api.core import metrics
from frameforge_api.core.cache import Cache
from frameforge_api.core.config import Settings
from frameforge_api.core.rate_limit import AuthLimits, RateLimiter
from frameforge_api.core.security import InvalidToken, decode_token
from frameforge_api.services import accounts
from frameforge_core.errors import NotAuthenticated, RateLimited
from frameforge_core.models import User
from frameforge_pipeline.resources import FrameStore


async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


async def get_sessions(request: Request) -> sessionmaker[Session]:
    """The session factory, for a route that does all its blocking work in one threadpool
    hop (``SessionDep`` opens and closes its session in two hops of its own)."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


def get_storage(request: Request) -> FrameStore:
    storage: FrameStore = request.app.state.storage
    return storage


async def get_instance(request: Request) -> dg.DagsterInstance:
    instance: dg.DagsterInstance = request.app.state.instance
    return instance


async def get_cache(request: Request) -> Cache:
    cache: Cache = request.app.state.cache
    return cache


SettingsDep = Annotated[Settings, Depends(app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
StorageDep = Annotated[FrameStore, Depends(get_storage)]
InstanceDep = Annotated[dg.DagsterInstance, Depends(get_instance)]
CacheDep = Annotated[Cache, Depends(get_cache)]

_bearer = HTTPBearer(auto_error=False)


async def get_token_claims(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> dict[str, Any]:
    """The claims of a valid access token (CPU only: no I/O in the event loop).

    Raises NotAuthenticated otherwise."""
    if credentials is None:
        raise NotAuthenticated("missing bearer token")
    try:
        claims = _verified(credentials.credentials, settings.signing_key)
    except InvalidToken:
        claims = None
    if claims is None or claims["exp"] <= _now():  # expired since it was first verified
        metrics.TOKEN_VALIDATIONS.labels(status="invalid").inc()
        raise NotAuthenticated("invalid or expired access token")
    metrics.TOKEN_VALIDATIONS.labels(status="valid").inc()
    return dict(claims)


_now = time.time


@functools.lru_cache(maxsize=10_000)
def _verified(token: str, key: str) -> dict[str, Any]:
    """The claims of a valid access token, verified once per token: a client polls with one
    token for up to its hour, and PyJWT checks the shape of the HMAC key (PEM, SSH, DER and
    JSON parses, about 0.2 ms) on every decode. A token string carries its own signature, so
    any other string is verified in full; the caller checks the expiry on every use.
    Raises InvalidToken (not cached: a refused token is verified again)."""
    return decode_token(token, "access", key)


TokenClaims = Annotated[dict[str, Any], Depends(get_token_claims)]


@dataclass(frozen=True)
class Caller:
    """The bearer of a valid access token, whose user is not read yet: a route reads the
    user's row (``row``: the user, while the token's login is not signed out) together with
    what it needs (one query, see services/jobs.owned) and then ``admit`` them."""

    user_id: str
    login: str | None  # the token's ``sid``: None in a token made before tokens named it
    request: Request

    @property
    def row(self) -> ColumnElement[bool]:
        """The condition that selects the caller's row of ``users``, if they are signed in."""
        return accounts.signed_in(self.user_id, self.login)

    def admit(self, user_exists: bool) -> None:
        """Raises NotAuthenticated when the user is gone or the login signed out (as for an
        expired token: either way, sign in again), RateLimited past the limit."""
        if not user_exists:
            raise NotAuthenticated("invalid or expired access token")
        self.request.state.user_id = self.user_id  # for the access log line (core/telemetry.py)
        enforce(self.request.app.state.rate_limiter, self.user_id, "per user")


async def get_caller(request: Request, claims: TokenClaims) -> Caller:
    login = claims.get("sid")
    return Caller(str(claims["sub"]), None if login is None else str(login), request)


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_current_user(caller: CallerDep, session: SessionDep) -> User:
    """The user of a valid access token, within the rate limit.

    Raises NotAuthenticated when the user is gone or signed out, RateLimited past the limit.
    """
    user = session.scalar(select(User).where(caller.row))
    session.commit()  # hand the connection back while the request waits for its next thread
    caller.admit(user is not None)
    assert user is not None
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def enforce(limiter: RateLimiter, key: str, scope: str, record: bool = True) -> None:
    """Count a request of ``key`` (or, with ``record`` False, only check that the window
    has room). Raises RateLimited (429, Retry-After) past the limit."""
    decision = limiter.hit(key) if record else limiter.check(key)
    if not decision.allowed:
        metrics.RATE_LIMIT_EXCEEDED.inc()
        raise RateLimited(
            f"too many requests: {limiter.limit} per {limiter.window:g} s {scope}; "
            f"retry in {decision.retry_after} s",
            decision.retry_after,
        )


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, run uvicorn with --proxy-headers and
    --forwarded-allow-ips so that this is the client's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


def auth_limits(request: Request) -> AuthLimits:
    """Counts every auth request against its client address, and hands the auth limits on
    to the route (registrations per address, logins per account)."""
    limits: AuthLimits = request.app.state.auth_limits
    enforce(limits.requests, f"auth:{client_address(request)}", "per address")
    return limits


AuthLimitsDep = Annotated[AuthLimits, Depends(auth_limits)]
ClientAddress = Annotated[str, Depends(client_address)]
