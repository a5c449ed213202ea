"""The download's name: the user's file name cut down to something every client and file
system takes, sent as RFC 6266 says (an ASCII ``filename`` and the UTF-8 ``filename*``)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.http import parse_options_header

from frameforge_api.core.downloads import content_disposition, zip_name


def _parsed(header: str) -> str | None:
    """The file name an RFC 6266 parser reads from the header (``filename*`` first)."""
    disposition, params = parse_options_header(header)
    assert disposition == "attachment"
    return params.get("filename")


@pytest.mark.parametrize(
    ("file_name", "name", "header"),
    [
        ("clip.mp4", "clip-frames.zip", 'attachment; filename="clip-frames.zip"'),
        (
            "Holiday 2026.MOV",
            "Holiday 2026-frames.zip",
            'attachment; filename="Holiday_2026-frames.zip"; '
            "filename*=UTF-8''Holiday%202026-frames.zip",
        ),
        (
            "../../etc/passwd",
            "passwd-frames.zip",
            'attachment; filename="passwd-frames.zip"',
        ),
        (
            'x"; filename="evil.exe.mp4',
            "x ; filename= evil.exe-frames.zip",
            'attachment; filename="x_filename_evil.exe-frames.zip"; '
            "filename*=UTF-8''x%20%3B%20filename%3D%20evil.exe-frames.zip",
        ),
        (
            "Ünïcödé clip.mov",
            "Ünïcödé clip-frames.zip",
            'attachment; filename="Unicode_clip-frames.zip"; '
            "filename*=UTF-8''%C3%9Cn%C3%AFc%C3%B6d%C3%A9%20clip-frames.zip",
        ),
        (
            "動画.mp4",
            "動画-frames.zip",
            'attachment; filename="video-frames.zip"; '
            "filename*=UTF-8''%E5%8B%95%E7%94%BB-frames.zip",
        ),
        ("C:\\Users\\me\\a.b.mkv", "a.b-frames.zip", 'attachment; filename="a.b-frames.zip"'),
        (".mp4", "mp4-frames.zip", 'attachment; filename="mp4-frames.zip"'),
        ("...", "video-frames.zip", 'attachment; filename="video-frames.zip"'),
        ("a\r\nSet-Cookie: x=1.mp4", "a Set-Cookie x=1-frames.zip", None),
    ],
)
def test_names(file_name, name, header):
    assert zip_name(file_name) == name
    if header is not None:
        assert content_disposition(file_name) == header
    assert _parsed(content_disposition(file_name)) == name


@given(st.text(max_size=300))
def test_any_file_name_gives_one_ascii_line_that_parses_back_to_a_safe_name(file_name):
    header = content_disposition(file_name)
    assert header.isascii()
    assert header.isprintable()  # no CR or LF: one header line, nothing injected
    name = _parsed(header)
    assert name == zip_name(file_name)
    assert name.endswith("-frames.zip")
    assert not set(name) & set('/\\:*?"<>|')
    assert name.isprintable()
    assert not name.startswith((".", " "))
    assert len(name) <= 100 + len("-frames.zip")
