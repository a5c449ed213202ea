"""What a download is called: ``clip.mp4`` -> ``clip-frames.zip``, however hostile the name.

The user's file name is free text (``services/uploads.py`` refuses only control characters
and bidi overrides), so the ZIP's name is cut down to its last path segment and stripped of
what no file system or header should hold. ``Content-Disposition`` carries it as RFC 6266
asks: a plain ASCII ``filename`` for old clients and the UTF-8 name as ``filename*``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

SUFFIX = "-frames.zip"
MAX_STEM = 100  # characters of the file's own name kept before the suffix
_NOT_IN_A_NAME = re.compile(r'[\\/:*?"<>|]')  # what Windows refuses in a name, "/" included
_NOT_PLAIN_ASCII = re.compile(r"[^A-Za-z0-9._()-]+")


def zip_name(file_name: str) -> str:
    """The download's name: the upload's name without its extension, then ``-frames.zip``.
    ``../My Clip.MOV`` -> ``My Clip-frames.zip``; a name with nothing usable -> ``video``."""
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    printable = "".join(c if c.isprintable() else " " for c in stem)
    words = _NOT_IN_A_NAME.sub(" ", printable).split()  # line breaks, tabs, runs of spaces
    cleaned = " ".join(words).strip(" .")[:MAX_STEM].strip(" .")
    return (cleaned or "video") + SUFFIX


def _ascii_fallback(name: str) -> str:
    """``Ünïcödé clip-frames.zip`` -> ``Unicode_clip-frames.zip``; only letters, digits and
    ``._()-`` (nothing a quoted string must escape)."""
    stem = name.removesuffix(SUFFIX)
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    plain = _NOT_PLAIN_ASCII.sub("_", folded).strip("._")
    return (plain if any(c.isalnum() for c in plain) else "video") + SUFFIX


def content_disposition(file_name: str) -> str:
    """``attachment`` with the ZIP's name of ``file_name``: ASCII only, one line."""
    name = zip_name(file_name)
    header = f'attachment; filename="{_ascii_fallback(name)}"'
    if name != _ascii_fallback(name):
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header
