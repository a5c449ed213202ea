"""What the API refuses before any route sees a request: a body over the limit (413), a
path with control characters (404). Pure ASGI, like ``telemetry.py``.

Request bodies are JSON of a few hundred bytes, except a video's upload, which streams
to the store under its own limit (the announced size, at most FRAMEFORGE_MAX_UPLOAD_BYTES,
enforced by ``services.uploads.receive``). Everything else is refused past
FRAMEFORGE_MAX_BODY_BYTES: at once when ``Content-Length`` says so (nothing is read), and
as soon as a body sent without one (chunked) grows past it, so a request never holds more
than the limit and one chunk in memory.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frameforge_api.core.errors import problem_response
from frameforge_api.core.sizes import size_text

# Unicode categories no file name, id or password needs: controls (NUL, CR, LF, ESC, …),
# surrogates (not encodable as UTF-8), line and paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
# The bidirectional formatting characters, which make text display other than it is
# ("clip\u202egpj.exe" shows as "clipexe.jpg").
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def control_characters(text: str) -> list[str]:
    """The control, separator and bidirectional formatting characters of ``text``, named
    ``U+0000`` (empty when it has none)."""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if c in _BIDI_CONTROLS or unicodedata.category(c) in _CONTROL_CATEGORIES
    ]


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body outgrows the limit: FastAPI passes HTTPExceptions
    raised while it reads a body on as they are, and the app's handler answers the 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the {size_text(limit)} allowed")


class BodyLimitMiddleware:
    """Refuses request bodies over ``limit`` bytes, except on the ``own_limit`` routes
    (``(method, path regex)``), which enforce a limit of their own."""

    def __init__(self, app: ASGIApp, limit: int, own_limit: Sequence[tuple[str, str]] = ()) -> None:
        self.app = app
        self.limit = limit
        self._own_limit = [(method, re.compile(path)) for method, path in own_limit]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _on_routes(scope, self._own_limit):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)  # before a byte of it is read
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:  # read outside FastAPI's body parsing: answered here
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, BodyTooLarge(self.limit).detail)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


class PathGuardMiddleware:
    """A path with control characters (``/videos/jobs/abc%00``) names nothing here: 404,
    before it can reach a database that cannot even store such an id (PostgreSQL has no
    NUL in text)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and control_characters(scope["path"]):
            response = problem_response(404, "no such resource: the path has control characters")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class InFlightLimitMiddleware:
    """At most ``limit`` requests inside the app at once; the others wait in the event loop,
    holding neither a thread nor a database connection.

    A request keeps its database connection across its hops between threads. With more
    requests inside than the pool has connections, every thread of the threadpool can end up
    waiting for a connection while every connection waits, with its request, for a thread:
    nothing moves until the pool's timeout turns them into 500s. ``limit`` is the pool's size.
    The ``exempt`` routes (``(method, path regex)``) pass at once: liveness must not wait
    behind load, and an upload streams for minutes in the event loop, holding no thread.
    """

    def __init__(self, app: ASGIApp, limit: int, exempt: Sequence[tuple[str, str]] = ()) -> None:
        self.app = app
        self._slots = asyncio.Semaphore(limit)
        self._exempt = [(method, re.compile(path)) for method, path in exempt]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _on_routes(scope, self._exempt):
            await self.app(scope, receive, send)
            return
        async with self._slots:
            await self.app(scope, receive, send)


def _on_routes(scope: Scope, routes: Sequence[tuple[str, re.Pattern[str]]]) -> bool:
    return any(
        scope["method"] == method and pattern.fullmatch(scope["path"]) for method, pattern in routes
    )
