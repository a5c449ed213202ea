"""Logging context shared by every process: the trace id travels from the HTTP request
through the job's messages and Dagster run to the email.

``bound(trace_id=..., user_id=...)`` sets context for the code inside it;
``current_trace_id()`` reads it. (The JSON formatter and ``configure`` come next.)
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator

trace_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
user_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user_id", default=None)


def new_trace_id() -> str:
    return uuid.uuid4().hex


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
