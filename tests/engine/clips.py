"""Clips of known truth for the engine's options: shots with known cuts, stills, HDR."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.reformatter import ColorPrimaries, Colorspace, ColorTrc
from av.video.stream import VideoStream

SIZE = (320, 240)


PAN_ROOM = 400  # pixels a shot may pan: shots are at most PAN_ROOM / pan frames long


@functools.cache
def texture(seed: int, size: tuple[int, int] = SIZE, margin: int = PAN_ROOM) -> np.ndarray:
    """A smooth random picture of its own colours, ``margin`` pixels wider for panning."""
    rng = np.random.default_rng(seed)
    width, height = size
    coarse = rng.integers(0, 256, size=(height // 24 + 2, (width + margin) // 24 + 2, 3))
    big = cv2.resize(coarse.astype(np.uint8), (width + margin, height), cv2.INTER_CUBIC)
    return cv2.GaussianBlur(big, (0, 0), 4)


def shot_frame(seed: int, step: int, size: tuple[int, int] = SIZE, pan: int = 2) -> np.ndarray:
    """Frame ``step`` of shot ``seed``: its texture panning ``pan`` pixels a frame, and a
    white square crossing it 5 pixels a frame (motion inside the shot)."""
    width = size[0]
    if step * pan > PAN_ROOM:
        raise ValueError(f"a shot panning {pan} pixels a frame lasts at most {PAN_ROOM // pan}")
    image = texture(seed, size)[:, step * pan : step * pan + width].copy()
    x = (20 + 5 * step) % (width - 40)
    image[90:130, x : x + 40] = 245
    return image


def encode(
    path: Path,
    pictures: Sequence[np.ndarray],
    fps: int = 25,
    codec: str = "libx264",
    gop: int = 50,
) -> list[Fraction]:
    """Encode RGB pictures as a clip; returns each frame's time."""
    height, width = pictures[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(
            codec,
            rate=fps,
            options={"preset": "veryfast", "x264-params": f"keyint={gop}:scenecut=0", "crf": "18"},
        )
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return [Fraction(i, fps) for i in range(len(pictures))]


def write_shots(path: Path, lengths: Sequence[int], fps: int = 25, pan: int = 2) -> list[int]:
    """A clip of distinct shots of ``lengths`` frames (each with motion); returns the index
    of each shot's first frame (the cuts, 0 included)."""
    pictures = [
        shot_frame(shot, step, pan=pan) for shot, n in enumerate(lengths) for step in range(n)
    ]
    encode(path, pictures, fps)
    return [sum(lengths[:i]) for i in range(len(lengths))]


def write_still_then_shots(path: Path, still_seconds: int, shots: int, fps: int = 25) -> None:
    """One picture held ``still_seconds``, then ``shots`` different pictures of 1 s each."""
    still = texture(100)[:, : SIZE[0]]
    pictures = [still] * (still_seconds * fps)
    for shot in range(shots):
        pictures += [texture(200 + shot)[:, : SIZE[0]]] * fps
    encode(path, pictures, fps)


HDR_TRANSFER = {"pq": ColorTrc.SMPTE2084, "hlg": ColorTrc.ARIB_STD_B67}
X265_TRANSFER = {"pq": "smpte2084", "hlg": "arib-std-b67"}


def write_hdr_patches(path: Path, transfer: str, patches: np.ndarray, frames: int = 3) -> None:
    """A lossless 10-bit HEVC clip (BT.2020, PQ or HLG) whose picture is a row of flat
    16x16 patches of the given limited-range Y'CbCr codes (``patches``: n x 3, 10-bit)."""
    count = len(patches)
    width, height = 16 * count, 16
    y = np.repeat(patches[:, 0], 16)[None, :].repeat(height, 0).astype(np.uint16)
    cb = np.repeat(patches[:, 1], 8)[None, :].repeat(height // 2, 0).astype(np.uint16)
    cr = np.repeat(patches[:, 2], 8)[None, :].repeat(height // 2, 0).astype(np.uint16)
    params = (
        "lossless=1:log-level=error:colorprim=bt2020:colormatrix=bt2020nc:"
        f"transfer={X265_TRANSFER[transfer]}"
    )
    with av.open(str(path), "w") as container:
        stream = container.add_stream(
            "libx265", rate=10, options={"preset": "ultrafast", "x265-params": params}
        )
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p10le"
        context = stream.codec_context
        context.color_trc = int(HDR_TRANSFER[transfer])
        context.color_primaries = int(ColorPrimaries.BT2020)
        context.colorspace = int(Colorspace.BT2020)
        for index in range(frames):
            frame = av.VideoFrame(width, height, "yuv420p10le")
            for plane, values in zip(frame.planes, (y, cb, cr), strict=True):
                rows = np.frombuffer(plane, np.uint16).reshape(-1, plane.line_size // 2)
                rows[: values.shape[0], : values.shape[1]] = values
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
