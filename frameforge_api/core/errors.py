"""Every error as application/problem+json (RFC 9457): type, title, status, detail.

The data layer raises the domain's errors (``frameforge_core.errors``); ``STATUS`` here is
the one place that says which HTTP status each kind of error is.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from frameforge_core import errors, logs

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("frameforge.api")

STATUS: dict[type[errors.FrameForgeError], int] = {
    errors.EmptyUpload: 400,
    errors.NotAuthenticated: 401,
    errors.BadSignature: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Expired: 410,
    errors.TooLarge: 413,
    errors.Invalid: 422,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.FrameForgeError)
    async def _domain(_: Request, error: errors.FrameForgeError) -> JSONResponse:
        return problem_response(status_of(error), error.reason, error.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem_response(error.status_code, str(error.detail), error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(e["loc"]), "message": e["msg"].removeprefix("Value error, ")}
            for e in error.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(422, detail, errors=errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        ids = {name: getattr(request.state, name, None) for name in ("trace_id", "request_id")}
        with logs.bound(**ids):
            log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = problem_response(500, "an unexpected error occurred; it has been logged")
        if ids["trace_id"]:
            response.headers["X-Trace-Id"] = ids["trace_id"]
        return response
