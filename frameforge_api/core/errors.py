"""Every error as application/problem+json (RFC 9457): type, title, status, detail.

The data layer raises the domain's errors (``frameforge_core.errors``); ``STATUS`` here is
the one place that says which HTTP status each kind of error is, and ``UNREACHABLE`` the one
place that turns a store's connection failure (the app database or the Dagster instance
down, or dropping the connection) into a domain error: a 503 with ``Retry-After``, not a 500.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dagster_postgres.utils import DagsterPostgresException
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sql
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from frameforge_core import errors, logs

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("frameforge.api")

# Connection-level failures of a store a request needs: SQLAlchemy's (refused, dropped,
# timed out, a server shutting down: OperationalError; a connection unusable at the driver:
# InterfaceError; a pool connection found dead: DisconnectionError), from the app database
# or a Dagster instance on SQLite, and dagster-postgres's own once its retries are spent.
UNREACHABLE: tuple[type[Exception], ...] = (
    sql.OperationalError,
    sql.InterfaceError,
    sql.DisconnectionError,
    DagsterPostgresException,
)
RETRY_AFTER_SECONDS = 5

STATUS: dict[type[errors.FrameForgeError], int] = {
    errors.EmptyUpload: 400,
    errors.NotAuthenticated: 401,
    errors.BadSignature: 403,
    errors.QuotaExceeded: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Expired: 410,
    errors.TooLarge: 413,
    errors.Invalid: 422,
    errors.RateLimited: 429,
    errors.TooManyJobs: 429,
    errors.Unavailable: 503,
}


def domain_error(error: Exception) -> errors.FrameForgeError | None:
    """The domain error an infrastructure exception stands for (None: a bug, a 500)."""
    if isinstance(error, errors.FrameForgeError):
        return error
    if isinstance(error, UNREACHABLE):
        return errors.TemporarilyUnavailable(errors.BRIEFLY_UNAVAILABLE, RETRY_AFTER_SECONDS)
    return None


def status_of(error: errors.FrameForgeError) -> int:
    """The HTTP status of a domain error (its nearest kind in ``STATUS``)."""
    return next((STATUS[kind] for kind in type(error).__mro__ if kind in STATUS), 500)


def problem_response(
    status: int, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": http.HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _unread_body(errors: Sequence[Any]) -> tuple[int, str] | None:
    """The answer to a body that could not be read as JSON at all, in the words of the
    person who sent it: another media type (a form, text) is a 415; JSON that does not
    parse a 422 saying where it stops. None for a body read, whose fields are checked."""
    for problem in errors:
        if problem["type"] == "json_invalid":
            position = problem["loc"][-1]
            reason = str(problem.get("ctx", {}).get("error", "")).removesuffix(" at")
            reason = reason[:1].lower() + reason[1:]
            return 422, f"the body is not valid JSON: {reason} at character {position + 1}"
        # FastAPI hands a route expecting JSON the raw bytes of any other media type
        if tuple(problem["loc"]) == ("body",) and isinstance(problem.get("input"), bytes):
            return 415, "send the body as application/json"
    return None


METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> str:
    """The methods some route serves on the request's path (Starlette's ``Allow`` names
    only the first route's: ``GET`` where ``POST`` is allowed too)."""

    def served(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)

    return ", ".join(filter(served, METHODS))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.FrameForgeError)
    async def _domain(_: Request, error: errors.FrameForgeError) -> JSONResponse:
        return problem_response(status_of(error), error.reason, error.headers)

    async def _unreachable(request: Request, error: Exception) -> JSONResponse:
        # the operator's log names the store and why; the caller only learns to retry
        log.warning(
            "%s %s: a store is unreachable: %s: %s",
            request.method,
            request.url.path,
            type(error).__name__,
            str(error).splitlines()[0] if str(error) else "",
        )
        unavailable = domain_error(error)
        assert unavailable is not None
        return await _domain(request, unavailable)

    for kind in UNREACHABLE:
        app.add_exception_handler(kind, _unreachable)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 405 and (allowed := _allowed_methods(request)):
            detail = f"{request.method} is not allowed here; this path allows {allowed}"
            return problem_response(405, detail, {**(error.headers or {}), "Allow": allowed})
        return problem_response(error.status_code, str(error.detail), error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        if unread := _unread_body(error.errors()):
            return problem_response(unread[0], unread[1])
        errors = [
            {"field": _field(e["loc"]), "message": e["msg"].removeprefix("Value error, ")}
            for e in error.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(422, detail, errors=errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        if isinstance(error, UNREACHABLE):  # raised outside the routes (a middleware)
            return await _unreachable(request, error)
        ids = {name: getattr(request.state, name, None) for name in ("trace_id", "request_id")}
        with logs.bound(**ids):
            log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = problem_response(500, "an unexpected error occurred; it has been logged")
        if ids["trace_id"]:
            response.headers["X-Trace-Id"] = ids["trace_id"]
        return response
