"""Logging context shared by every process: the trace id travels from the HTTP request
through the job's messages and Dagster run to the email.

``bound(trace_id=..., user_id=...)`` sets context for the code inside it;
``current_trace_id()`` reads it. ``configure(service)`` makes every record of the process
a JSON line carrying that context (``JsonFormatter``), and says which former setting names
the process was started with (``warn_of_former_names``).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from frameforge_core.settings import LogSettings, former_names_in

trace_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)


def new_trace_id() -> str:
    """32 random hex digits (a W3C trace id's shape); os.urandom: cheaper than uuid4()."""
    return os.urandom(16).hex()


def current_trace_id() -> str | None:
    return trace_id_var.get()


@contextlib.contextmanager
def bound(
    trace_id: str | None = None, request_id: str | None = None, user_id: str | None = None
) -> Iterator[None]:
    """Set the given parts of the log context inside the block (None leaves a part as is)."""
    tokens = [
        (var, var.set(value))
        for var, value in ((trace_id_var, trace_id), (request_id_var, request_id),
                           (user_id_var, user_id))
        if value is not None
    ]  # fmt: skip
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, in the shape every FrameForge process shares (DESIGN.md):
    ``timestamp, level, service, traceId, requestId?, userId?, message, context?, error?``.

    The ids come from the log context (``bound``) at the time of the call, ``context`` from
    ``extra={"context": {...}}`` and ``error`` from ``exc_info``. ``traceId`` is always
    present (null outside any trace), so a query on it never misses a line for lack of a key.
    """

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        created = dt.datetime.fromtimestamp(record.created, dt.UTC)
        entry: dict[str, Any] = {
            "timestamp": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "service": self.service,
            "traceId": trace_id_var.get(),
        }
        for key, var in (("requestId", request_id_var), ("userId", user_id_var)):
            if (value := var.get()) is not None:
                entry[key] = value
        entry["message"] = record.getMessage()
        context = getattr(record, "context", None)
        if isinstance(context, Mapping) and context:
            entry["context"] = dict(context)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["error"] = {
                "name": type(error).__name__,
                "message": str(error),
                "stack": self.formatException(record.exc_info),
            }
        # A value json cannot encode (a datetime, a UUID) is logged as text, and a context
        # that cannot be JSON at all (NaN, odd keys, a cycle) as its repr: never lose a line.
        # Newlines are escaped, so one entry is one line.
        try:
            return json.dumps(entry, default=str, allow_nan=False)
        except (TypeError, ValueError):
            entry["context"] = {"repr": repr(context)}
            return json.dumps(entry, default=str)


_HANDLER_NAME = "frameforge"
_TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure(service: str, level: str | None = None, adopt: Iterable[str] = ()) -> None:
    """Send every log record of this process to stderr, one JSON object per line.

    ``level`` defaults to ``$FRAMEFORGE_LOG_LEVEL`` (INFO); ``FRAMEFORGE_LOG_FORMAT=text``
    gives plain lines for reading in a terminal. Calling it again replaces the handler it
    installed (other handlers, such as pytest's, are left alone). The loggers named in
    ``adopt`` (e.g. ``uvicorn``) lose their own handlers and go through this one.

    Raises ValueError for an unknown level or format.
    """
    settings = LogSettings()  # raises ValidationError (a ValueError) naming the variable
    level = (level or settings.log_level).upper()
    style = settings.log_format
    handler = logging.StreamHandler()
    handler.name = _HANDLER_NAME
    handler.setFormatter(
        JsonFormatter(service) if style == "json" else logging.Formatter(_TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic's two lines each time a database's schema is checked (ours once per process,
    # and each of the embedded Dagster instance's SQLite storages as it opens): debug lines;
    # the migrations it runs are still info
    demote("alembic.runtime.migration", lambda m: m.startswith(("Context impl ", "Will assume ")))
    for name in adopt:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    warn_of_former_names()


def warn_of_former_names(environ: Mapping[str, str] = os.environ) -> None:
    """One warning naming each former setting name set in ``environ`` (``SMTP_HOST``) with
    its name now (``FRAMEFORGE_SMTP_HOST``), or that it is ignored when both are set; nothing
    when there is none. Called where a process starts, once its logging is set up."""
    renamed = former_names_in(environ)
    if not renamed:
        return
    names = ", ".join(
        f"{old} (ignored: {now} is set)" if now in environ else f"{old} (now {now})"
        for old, now in sorted(renamed.items())
    )
    logging.getLogger("frameforge.settings").warning(
        "started with former setting names, read for this release only: %s; rename them "
        "(docs/configuration.md)",
        names,
        extra={"context": {"renamed": renamed}},
    )


def demote(logger: str, idle: Callable[[str], bool]) -> None:
    """Make the info lines of ``logger`` whose message is ``idle`` debug lines, written only
    where that logger is set to DEBUG. Once per logger (later calls are ignored)."""
    target = logging.getLogger(logger)
    if any(isinstance(f, _Demoted) for f in target.filters):
        return
    target.addFilter(_Demoted(target, idle))


class _Demoted(logging.Filter):
    def __init__(self, target: logging.Logger, idle: Callable[[str], bool]) -> None:
        super().__init__()
        self.target, self.idle = target, idle

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self.idle(record.getMessage()):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return self.target.isEnabledFor(logging.DEBUG)
