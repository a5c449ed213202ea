"""The FastAPI application factory. ``uvicorn frameforge_api.main:app`` serves the default."""

from __future__ import annotations

import logging
from typing import Any

import dagster as dg
import redis
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frameforge_api.api.main import api_router
from frameforge_api.api.routes import docs, health, metrics, web
from frameforge_api.core.cache import Cache, MemoryCache, RedisCache
from frameforge_api.core.config import Settings
from frameforge_api.core.daemon_metrics import DaemonHealthCollector
from frameforge_api.core.errors import PROBLEM_JSON, install_error_handlers
from frameforge_api.core.guards import (
    BodyLimitMiddleware,
    InFlightLimitMiddleware,
    PathGuardMiddleware,
)
from frameforge_api.core.metrics import database_registry
from frameforge_api.core.rate_limit import LIMIT, WINDOW, AuthLimits, RateLimiter, limiter
from frameforge_api.core.telemetry import TelemetryMiddleware
from frameforge_core import connection_bounds, database, heap, logs
from frameforge_core.bounded_instance import bounded
from frameforge_core.database import create_db_engine, migrate, session_factory
from frameforge_core.settings import (
    DatabaseSettings,
    StoreSettings,
    ensure_dagster_home,
)
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
# The upload streams a video to the store under its own body limit (services/uploads.py),
# for minutes, in the event loop: no in-flight slot either
UPLOAD_ROUTES = [("PUT", r"/api/v1/uploads/[^/]+")]
log = logging.getLogger("frameforge.api")


class SecurityHeadersMiddleware:
    """Adds ``SECURITY_HEADERS`` to every answer that has not set its own (the pages, at /
    and /docs, set the CSP that lets them load their own scripts)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_secured)


class FrameForgeAPI(FastAPI):
    """FastAPI, with the security headers outside Starlette's ServerErrorMiddleware (which
    answers a 500 outside every middleware added with ``add_middleware``), and an OpenAPI
    document that declares errors as the application/problem+json they are served as."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(super().build_middleware_stack())

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            for path in super().openapi()["paths"].values():
                for operation in path.values():
                    for status, answer in operation.get("responses", {}).items():
                        content = answer.get("content", {})
                        # problem_responses(): FastAPI puts the model's schema under the
                        # route's media type, next to the (empty) problem+json entry
                        if int(status) >= 400 and PROBLEM_JSON in content:
                            schema = content.pop("application/json", {}).get("schema")
                            if schema:
                                content[PROBLEM_JSON] = {"schema": schema}
        assert self.openapi_schema is not None
        return self.openapi_schema


def _operation_id(route: APIRoute) -> str:
    """The route function's name (``create_job``): what generated clients call it."""
    return route.name


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

    app = FrameForgeAPI(
        title="FrameForge",
        version="1.0.0",
        summary="Upload a video, get its frames as a ZIP with a manifest.",
        generate_unique_id_function=_operation_id,
        docs_url=None,  # served by api/routes/docs.py, without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.instance = bounded(instance, settings.dagster_timeout_seconds)
    app.state.storage = storage or storage_for(StoreSettings())
    app.state.sessions = session_factory(engine)
    shared = _redis(settings.redis_url)
    app.state.rate_limiter = rate_limiter or limiter(shared, LIMIT, WINDOW)
    app.state.auth_limits = AuthLimits.build(
        shared,
        requests_per_minute=settings.auth_requests_per_minute,
        registrations_per_hour=settings.registrations_per_hour,
    )
    app.state.cache = cache or (RedisCache(shared) if shared else MemoryCache())
    app.state.metrics_registry = database_registry(app.state.sessions)
    app.state.metrics_registry.register(DaemonHealthCollector(app.state.instance))
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(api_router)
    app.include_router(web.router)  # the page for users at /
    app.include_router(docs.router)  # /docs and /redoc

    if settings.env == "production" and settings.metrics_token is None:
        log.warning("GET /metrics answers 404: set FRAMEFORGE_METRICS_TOKEN to expose it")

    # innermost first: each add_middleware wraps the ones before it
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes, own_limit=UPLOAD_ROUTES)
    app.add_middleware(PathGuardMiddleware)
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
    app.add_middleware(
        InFlightLimitMiddleware,
        limit=database.POOL_SIZE + database.MAX_OVERFLOW,
        exempt=[("GET", "/health"), *UPLOAD_ROUTES],
    )
    app.add_middleware(TelemetryMiddleware)  # added last: outermost, it sees every answer
    return app


def _redis(url: str | None) -> redis.Redis | None:
    """The Redis the rate limiter and the cache share (REDIS_URL); short timeouts, since
    both degrade rather than wait when it is down."""
    if not url:
        return None
    return redis.Redis.from_url(url, **connection_bounds.redis_options())


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
    # One request line, ours (core/telemetry.py): JSON, the path without its query string.
    # uvicorn's access line has the query string, and a signed link's signature with it.
    logging.getLogger("uvicorn.access").disabled = True
    try:
        # built with the collector paused, then frozen: no full collection walks it again
        # (~0.14 s each, a stall of every request in flight: the p99 of job status under load)
        with heap.long_lived():
            return create_app()
    except ValidationError as error:
        raise SystemExit(
            f"frameforge-api: configuration error: {validation_message(error)}"
        ) from None
