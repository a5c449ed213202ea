"""How the command says what went wrong: one line on stderr, and the exit code. Shared by the
CLI and the services it starts (``stack``), which the CLI imports, never the other way."""

from __future__ import annotations

import sys


def fail(message: str, code: int = 1) -> int:
    """Say what is wrong in one line on stderr; returns ``code``, the exit code."""
    print(f"frameforge: {message}", file=sys.stderr)
    return code
