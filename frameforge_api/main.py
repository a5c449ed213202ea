"""The FastAPI application factory. ``uvicorn frameforge_api.main:app`` serves the default."""

from __future__ import annotations

import dagster as dg
import redis
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from pydantic import ValidationError
from starlette.middleware.base import RequestResponseEndpoint

from frameforge_api.api.main import api_router
from frameforge_api.api.routes import health, metrics
from frameforge_api.core.cache import Cache, MemoryCache, RedisCache
from frameforge_api.core.config import Settings
from frameforge_api.core.errors import install_error_handlers
from frameforge_api.core.metrics import database_registry
from frameforge_api.core.rate_limit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from frameforge_api.core.telemetry import TelemetryMiddleware
from frameforge_core import logs
from frameforge_core.database import create_db_engine, migrate, session_factory
from frameforge_core.settings import DatabaseSettings, StoreSettings, ensure_dagster_home
from frameforge_pipeline.engine.options import validation_message
from frameforge_pipeline.resources import FrameStore, storage_for

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
ID_HEADERS = ["X-Trace-Id", "X-Request-Id"]  # see core/telemetry.py
DOCS_CSP = "default-src 'self' cdn.jsdelivr.net; img-src 'self' data: fastapi.tiangolo.com; style-src 'self' 'unsafe-inline' cdn.jsdelivr.net; script-src 'self' 'unsafe-inline' cdn.jsdelivr.net"  # noqa: E501


def create_app(
    settings: Settings | None = None,
    instance: dg.DagsterInstance | None = None,
    storage: FrameStore | None = None,
    database_url: str | None = None,
    rate_limiter: RateLimiter | None = None,
    cache: Cache | None = None,
) -> FastAPI:
    """The API. Tests pass their own instance, store and database; by default they come
    from the environment, and the database is migrated (once, under a lock) here.
    """
    settings = settings or Settings()
    if instance is None:
        ensure_dagster_home()
        instance = dg.DagsterInstance.get()
    engine = create_db_engine(database_url or DatabaseSettings().url)
    migrate(engine)

    app = FastAPI(
        title="FrameForge",
        version="1.0.0",
        summary="Upload a video, get its frames as a ZIP with a manifest.",
    )
    app.state.settings = settings
    app.state.instance = instance
    app.state.storage = storage or storage_for(StoreSettings())
    app.state.sessions = session_factory(engine)
    shared = _redis(settings.redis_url)
    app.state.rate_limiter = rate_limiter or (
        RedisRateLimiter(shared) if shared else MemoryRateLimiter()
    )
    app.state.cache = cache or (RedisCache(shared) if shared else MemoryCache())
    app.state.metrics_registry = database_registry(app.state.sessions)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(api_router)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path in ("/docs", "/redoc"):
            response.headers["Content-Security-Policy"] = DOCS_CSP
        return response

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "traceparent",
                *ID_HEADERS,
            ],
            expose_headers=ID_HEADERS,
        )
    app.add_middleware(TelemetryMiddleware)  # added last: outermost, it sees every answer
    return app


def _redis(url: str | None) -> redis.Redis | None:
    """The Redis the rate limiter and the cache share (REDIS_URL); short timeouts, since
    both degrade rather than wait when it is down."""
    if not url:
        return None
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def __getattr__(name: str) -> FastAPI:
    """``frameforge_api.main:app`` builds the app on first use, not at import.

    A bad configuration stops the server with one line saying what to fix.
    """
    if name != "app":
        raise AttributeError(name)
    try:
        logs.configure("api", adopt=["uvicorn"])  # uvicorn's own lines as JSON too
    except ValueError as error:
        raise SystemExit(f"frameforge-api: configuration error: {error}") from None
    try:
        return create_app()
    except ValidationError as error:
        raise SystemExit(
            f"frameforge-api: configuration error: {validation_message(error)}"
        ) from None
