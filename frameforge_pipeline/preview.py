"""A small inline picture of a frame for the Dagster UI: Markdown with a data URI, small
enough to live in the event log (a few kilobytes)."""

from __future__ import annotations

import base64

import cv2
import numpy as np

PREVIEW_WIDTH = 160
PREVIEW_QUALITY = 70


def preview_jpeg(data: bytes, width: int = PREVIEW_WIDTH) -> bytes | None:
    """``data`` (an encoded image: JPEG, PNG or WebP) as a JPEG at most ``width`` pixels
    wide; None when it cannot be decoded."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    height, current = image.shape[:2]
    if current > width:
        size = (width, max(1, round(height * width / current)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, PREVIEW_QUALITY])
    return buffer.tobytes() if ok else None


def preview_markdown(data: bytes, caption: str) -> str | None:
    """Markdown showing ``data`` inline (``![caption](data:image/jpeg;base64,...)``)."""
    jpeg = preview_jpeg(data)
    if jpeg is None:
        return None
    return f"![{caption}](data:image/jpeg;base64,{base64.b64encode(jpeg).decode()})"
