"""The first-frame preview: a small JPEG whatever the frame's format and size."""

import base64

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from frameforge_pipeline.preview import PREVIEW_WIDTH, preview_jpeg, preview_markdown


def encoded(width: int, height: int, extension: str) -> bytes:
    picture = np.full((height, width, 3), 128, np.uint8)
    ok, buffer = cv2.imencode(extension, picture)
    assert ok
    return buffer.tobytes()


@given(
    width=st.integers(min_value=1, max_value=1920),
    height=st.integers(min_value=1, max_value=1080),
    extension=st.sampled_from([".jpg", ".png", ".webp"]),
)
def test_a_preview_is_at_most_160_wide_and_keeps_the_aspect(width, height, extension):
    jpeg = preview_jpeg(encoded(width, height, extension))
    assert jpeg is not None
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    shown_height, shown_width = picture.shape[:2]
    assert shown_width == min(width, PREVIEW_WIDTH)
    assert shown_height == pytest.approx(height * shown_width / width, abs=1)


def test_the_markdown_holds_the_jpeg_inline():
    markdown = preview_markdown(encoded(1920, 1080, ".png"), "first frame")
    assert markdown is not None
    prefix = "![first frame](data:image/jpeg;base64,"
    assert markdown.startswith(prefix)
    assert base64.b64decode(markdown.removeprefix(prefix).removesuffix(")"))[:2] == b"\xff\xd8"
    assert len(markdown) < 8000


def test_what_is_not_a_picture_has_no_preview():
    assert preview_markdown(b"not a picture", "first frame") is None
