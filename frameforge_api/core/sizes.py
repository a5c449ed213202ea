"""Sizes as people read them: ``600 bytes``, ``1.5 MiB``, ``2 GiB``."""

from __future__ import annotations

UNITS: tuple[str, ...] = ("KiB", "MiB", "GiB", "TiB")


def size_text(size: int) -> str:
    """``600 bytes``, ``1.5 MiB``, ``2 GiB`` (a whole number of its unit, as limits are, is
    written without decimals; any other size with one)."""
    if size < 1024:
        return f"{size} bytes"
    value, units = size / 1024, UNITS
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.0f} {units[0]}" if value.is_integer() else f"{value:.1f} {units[0]}"
