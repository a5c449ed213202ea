"""Per request: the log context (trace and request ids), the HTTP metrics, one access line.

The trace id comes from the caller when it sends one (W3C ``traceparent``, else
``X-Trace-Id``), so one id follows a job from the client through the API, the message and
the Dagster run to the email; both ids are echoed back in ``X-Trace-Id`` and
``X-Request-Id``. Ids that do not look like ids are replaced, not echoed: they end up in
headers, logs and the database.

Metrics are labelled with the route template (``/api/v1/videos/jobs/{job_id}``), never
the raw path, so a series per job id cannot grow without bound.
"""

from __future__ import annotations

import logging
import re
import time

from fastapi.routing import iter_route_contexts
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frameforge_api.core import metrics
from frameforge_core.logs import bound, new_trace_id

log = logging.getLogger("frameforge.api.access")

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def trace_id_from(headers: Headers) -> str:
    """The caller's trace id (``traceparent``, else ``X-Trace-Id``), else a new one."""
    traceparent = _TRACEPARENT.match(headers.get("traceparent", "").strip().lower())
    if traceparent and traceparent.group(1) != "0" * 32:  # all zeros: invalid in W3C
        return traceparent.group(1)
    return _valid_id(headers.get("x-trace-id")) or new_trace_id()


def _valid_id(value: str | None) -> str | None:
    return value if value is not None and _ID.match(value) else None


def route_templates(app: Starlette) -> dict[int, str]:
    """``id(route) -> full path template`` for every route of ``app``.

    Since FastAPI 0.137 ``include_router`` nests routers, so the route a request reaches
    knows only its own part of the path (``/videos/jobs/{job_id}``); the prefixes it was
    included under are known to the app, through ``iter_route_contexts``. (Route objects
    compare by value and cannot be hashed, hence ``id``; they live as long as the app.)
    """
    return {
        id(context.original_route): context.path_format
        for context in iter_route_contexts(app.routes)
        if context.path_format
    }


class TelemetryMiddleware:
    """Pure ASGI, outermost, so it times and counts every answer, errors included.

    An exception that escapes the app is counted and logged as a 500 and raised on.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: dict[int, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        trace_id = trace_id_from(headers)
        request_id = _valid_id(headers.get("x-request-id")) or new_trace_id()
        # for the 500 handler, which Starlette runs outside every middleware
        scope.setdefault("state", {}).update(trace_id=trace_id, request_id=request_id)
        status = 500

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = MutableHeaders(scope=message)
                response_headers["X-Trace-Id"] = trace_id
                response_headers["X-Request-Id"] = request_id
            await send(message)

        start = time.perf_counter()
        with bound(trace_id=trace_id, request_id=request_id):
            try:
                await self.app(scope, receive, send_with_ids)
            finally:
                self._record(scope, status, time.perf_counter() - start)

    def _template(self, scope: Scope) -> str:
        """The template of the route that answered, or ``unmatched`` (a 404)."""
        route = scope.get("route")
        if route is None:
            return "unmatched"
        if id(route) not in self._templates:  # the first request, or a route added since
            self._templates = route_templates(scope["app"])
            fallback = getattr(route, "path_format", None)  # e.g. a 405's partial match
            self._templates.setdefault(
                id(route), fallback if isinstance(fallback, str) else "unmatched"
            )
        return self._templates[id(route)]

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "other"
        path = self._template(scope)
        metrics.HTTP_REQUESTS.labels(method=method, path=path, status=str(status)).inc()
        metrics.HTTP_DURATION.labels(method=method, path=path).observe(seconds)
        # The user is known once the app has authenticated the request (see deps.py).
        with bound(user_id=scope.get("state", {}).get("user_id")):
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "context": {
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "durationMs": round(seconds * 1000, 1),
                    }
                },
            )
