"""What only the tests need of the sample videos (frameforge_pipeline.samples writes the
barcode clips the demo and the benchmarks use too): the barcode read back, an x264 encode
that makes its own keyframe decisions, and a file with no video stream."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from frameforge_pipeline.samples import BARS, write_clip


def times_from_gaps(gaps_ms: Sequence[int] | np.ndarray) -> list[Fraction]:
    """Frame times starting at 0, each ``gaps_ms[i]`` milliseconds after the one before."""
    return [Fraction(0)] + [Fraction(int(t), 1000) for t in np.cumsum(gaps_ms)]


def read_index(image_bgr: np.ndarray) -> int:
    """The index drawn on an upright picture. Raises ValueError when no barcode is upright."""
    height, width = image_bgr.shape[:2]
    row = image_bgr[height // 4].mean(axis=1)
    centres = ((np.arange(BARS) + 0.5) * width / BARS).astype(int)
    bits = [int(row[c] > 128) for c in centres]
    if bits[0] != 1 or bits[-1] != 0 or image_bgr[3 * height // 4].mean() > 200:
        raise ValueError("no upright barcode in this picture")
    return int("".join(map(str, bits[1:-1])), 2)


def write_x264_clip(
    path: Path,
    times: Sequence[Fraction],
    x264_params: str,
    size: tuple[int, int] = (320, 240),
    preset: str = "veryfast",
) -> list[Fraction]:
    """A barcode clip (frame n at ``times[n]`` seconds) from libx264 with ``x264_params`` as
    given, e.g. ``keyint=29:open-gop=1``: where write_clip fixes the keyframe interval, this
    leaves x264 its own keyframe, scene-cut and B-frame decisions, as a real encode has."""
    options = {"preset": preset, "x264-params": x264_params}
    return write_clip(path, times=times, size=size, encoder_options=options)


def write_audio_only(path: Path, seconds: float = 1.0) -> None:
    """An AAC file with a sine tone and no video stream."""
    rate = 44_100
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        samples = np.sin(np.arange(int(seconds * rate)) * 2 * np.pi * 440 / rate) * 0.2
        data = samples.astype(np.float32).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="mono")
        frame.sample_rate = rate
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
