"""How the command says what went wrong: one line on stderr, and the exit code. Shared by the
CLI and the services it starts (``stack``), which the CLI imports, never the other way."""

from __future__ import annotations

import sys


def fail(message: str, code: int = 1) -> int:
    """Say what is wrong in one line on stderr; returns ``code``, the exit code."""
    print(f"frameforge: {message}", file=sys.stderr)
    return code


def first_line(error: BaseException) -> str:
    """An error's first line (a database driver's own message, when SQLAlchemy wraps one)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
