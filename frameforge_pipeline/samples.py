"""Synthetic videos with known truth, for the demo, the tests and the benchmarks.

Every frame shows its index as a barcode across the top half of the upright picture, so an
extracted image tells which source frame it is and whether it came out upright (the tests
read it back: tests/sample_clips.py, with the clips only tests need).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream

BARS = 14  # bar 0 always white, bars 1-12 the index (most significant first), bar 13 black
INDEX_BITS = BARS - 2


def _encoder_options(codec: str, gop: int) -> dict[str, str]:
    """Fast settings that keep B-frames (so pts differ from dts) and a fixed keyframe interval."""
    if codec == "libx264":
        return {"preset": "veryfast", "x264-params": f"keyint={gop}:scenecut=0"}
    if codec == "libx265":
        return {"preset": "ultrafast", "x265-params": f"keyint={gop}:log-level=error"}
    if codec == "libvpx-vp9":
        return {"deadline": "realtime", "cpu-used": "8"}
    return {}


def draw(index: int, width: int, height: int) -> np.ndarray:
    """An upright RGB picture whose top half is the barcode of ``index``."""
    if not 0 <= index < 2**INDEX_BITS:
        raise ValueError(f"index {index} does not fit in {INDEX_BITS} bits")
    image = np.empty((height, width, 3), np.uint8)
    image[height // 2 :] = (40, 90, 160)  # a blue-ish lower half
    bits = [1] + [(index >> (INDEX_BITS - 1 - b)) & 1 for b in range(INDEX_BITS)] + [0]
    edges = np.linspace(0, width, BARS + 1).astype(int)
    for bar, bit in enumerate(bits):
        image[: height // 2, edges[bar] : edges[bar + 1]] = 235 if bit else 16
    return image


def write_clip(
    path: Path,
    *,
    seconds: float = 2.0,
    fps: Fraction = Fraction(30),
    times: Sequence[Fraction] | None = None,
    size: tuple[int, int] = (320, 240),
    codec: str = "libx264",
    gop: int = 30,
    rotation: int = 0,
    sample_aspect_ratio: Fraction | None = None,
    encoder_options: dict[str, str] | None = None,
) -> list[Fraction]:
    """Encode a clip and return the presentation time (seconds) of every frame.

    ``times`` gives explicit frame times (variable frame rate); otherwise frames come every
    1/fps for ``seconds``. ``size`` is the upright display size; with ``rotation`` (degrees
    clockwise, as phones tag portrait video) the picture is stored turned the other way and
    tagged so that a player shows it upright. ``encoder_options`` replace the fast settings
    with a fixed keyframe interval (``gop`` then goes unused).
    """
    if times is None:
        times = [i / fps for i in range(round(seconds * fps))]
    width, height = size
    # AVI has no timestamps of its own (frame n is at n/fps); WebM counts milliseconds.
    time_base = {".avi": 1 / fps, ".webm": Fraction(1, 1000)}.get(path.suffix, Fraction(1, 90_000))
    with av.open(str(path), "w") as container:
        options = encoder_options or _encoder_options(codec, gop)
        stream = container.add_stream(codec, rate=fps, options=options)
        assert isinstance(stream, VideoStream)
        coded_w, coded_h = (height, width) if rotation in (90, 270) else (width, height)
        stream.width, stream.height = coded_w, coded_h
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        if encoder_options is None:
            stream.codec_context.gop_size = gop
        stream.codec_context.time_base = time_base
        if sample_aspect_ratio is not None:  # declared as is; the picture stays ``size``
            stream.codec_context.sample_aspect_ratio = sample_aspect_ratio
        if rotation:
            stream.set_display_rotation(-rotation)
        for index, when in enumerate(times):
            coded = np.ascontiguousarray(np.rot90(draw(index, width, height), rotation // 90))
            frame = av.VideoFrame.from_ndarray(coded, format="rgb24")
            frame.pts = round(when / time_base)
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return list(times)
