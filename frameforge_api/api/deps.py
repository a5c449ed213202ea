"""Typed dependencies, so a route's signature reads as a sentence."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import dagster as dg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from frameforge_api.core import metrics
from frameforge_api.core.cache import Cache
from frameforge_api.core.config import Settings
from frameforge_api.core.rate_limit import AuthLimits, RateLimiter
from frameforge_api.core.security import InvalidToken, decode_token
from frameforge_core.errors import NotAuthenticated, RateLimited
from frameforge_core.models import User
from frameforge_pipeline.resources import FrameStore


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_storage(request: Request) -> FrameStore:
    storage: FrameStore = request.app.state.storage
    return storage


def get_instance(request: Request) -> dg.DagsterInstance:
    instance: dg.DagsterInstance = request.app.state.instance
    return instance


def get_cache(request: Request) -> Cache:
    cache: Cache = request.app.state.cache
    return cache


SettingsDep = Annotated[Settings, Depends(app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
StorageDep = Annotated[FrameStore, Depends(get_storage)]
InstanceDep = Annotated[dg.DagsterInstance, Depends(get_instance)]
CacheDep = Annotated[Cache, Depends(get_cache)]

_bearer = HTTPBearer(auto_error=False)


def get_token_claims(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> dict[str, Any]:
    """The claims of a valid access token. Raises NotAuthenticated otherwise."""
    if credentials is None:
        raise NotAuthenticated("missing bearer token")
    try:
        claims = decode_token(credentials.credentials, "access", settings.signing_key)
    except InvalidToken:
        metrics.TOKEN_VALIDATIONS.labels(status="invalid").inc()
        raise NotAuthenticated("invalid or expired access token") from None
    metrics.TOKEN_VALIDATIONS.labels(status="valid").inc()
    return claims


TokenClaims = Annotated[dict[str, Any], Depends(get_token_claims)]


def get_current_user(request: Request, session: SessionDep, claims: TokenClaims) -> User:
    """The user of a valid access token, within the rate limit.

    Raises NotAuthenticated when the user is gone, RateLimited past the limit.
    """
    user = session.get(User, claims["sub"])
    session.commit()  # hand the connection back while the request waits for its next thread
    if user is None:
        raise NotAuthenticated("invalid or expired access token")
    request.state.user_id = user.id  # for the access log line (core/telemetry.py)
    enforce(request.app.state.rate_limiter, user.id, "per user")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def enforce(limiter: RateLimiter, key: str, scope: str) -> None:
    """Count a request of ``key``. Raises RateLimited (429, Retry-After) past the limit."""
    decision = limiter.hit(key)
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
