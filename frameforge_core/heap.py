"""What a process builds once and keeps until it exits: imports, the API app, the code location.

CPython's cyclic collector walks every tracked object on each full collection. While a
process imports Dagster and builds an app it runs many of them over a growing heap (a quarter
of importing the code location), and afterwards each one still walks the 250,000 or so
objects that will never be garbage (~0.1 s, a stall of everything the process is doing).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Pauses the collector while the block builds, then freezes every object made so far
    (``gc.freeze``: no later collection walks them; they are never freed, as nothing
    long-lived is)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
