"""How the command says what went wrong: one line on stderr, and the exit code. Shared by the
CLI and the services it starts (``stack``), which the CLI imports, never the other way."""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def fail(message: str, code: int = 1) -> int:
    """Say what is wrong in one line on stderr; returns ``code``, the exit code."""
    print(f"frameforge: {message}", file=sys.stderr)
    return code


def first_line(error: BaseException) -> str:
    """An error's first line (a database driver's own message, when SQLAlchemy wraps one)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def exit_at_once(code: int) -> NoReturn:
    """End the process with ``code`` now, without Python's teardown: for a process that has
    loaded Dagster and whose work is done (what it started has stopped, its files are closed),
    where that teardown took 3 to 4 s of garbage collection on a busy 2-core machine and made
    a stop overrun the 10 s a container is given before it is killed."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
