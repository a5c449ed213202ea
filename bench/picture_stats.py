"""What the per-frame picture stats (pHash, brightness, sharpness) cost extraction.

    python bench/picture_stats.py [--seconds 10] [--runs 3] [--fps 1 5]

Extracts 720p and 1080p H.264 clips (30 fps, a keyframe a second) of two kinds: ``noisy``,
made by the ffmpeg CLI as bench/extract.py makes its clips (testsrc2 + temporal noise,
decoding like camera footage), and ``flat`` (samples.write_clip: flat bars, cheap to
decode, so the stats' share of the time is at its largest: an upper bound). Each clip is
extracted at each --fps with the stats as shipped and with them replaced by a stub that
returns zeros, runs interleaved (one of each, then the next) so that a change in the
machine's load hits both. Prints median wall times and their ratio, and the cost of one
picture's stats against its JPEG encoding, measured on its own. Needs the ffmpeg CLI.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from extract import make_clip  # bench/extract.py's clips: the ffmpeg CLI's libx264

from frameforge_pipeline.engine import render
from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.picture_stats import PictureStats, picture_stats
from frameforge_pipeline.engine.records import FrameRecord
from frameforge_pipeline.samples import write_clip

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
ALIGNED_GOP30 = ["-g", "30", "-keyint_min", "30", "-sc_threshold", "0"]


class _Discard:
    def write(self, record: FrameRecord, data: bytes) -> None:
        pass


def _no_stats(image: np.ndarray) -> PictureStats:
    return PictureStats(phash=0, brightness=0.0, sharpness=0.0)


def _timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def _extraction(path: Path, fps: float, stats: Callable[[np.ndarray], PictureStats]) -> float:
    render.picture_stats = stats  # type: ignore[attr-defined,assignment]  # what encode calls
    try:
        return _timed(lambda: extract(path, ExtractOptions(fps=fps), _Discard()))
    finally:
        render.picture_stats = picture_stats  # type: ignore[attr-defined]


def _per_picture(size: tuple[int, int], repeats: int = 30) -> tuple[float, float]:
    """Milliseconds for one picture's stats and for its JPEG encoding (quality 90)."""
    rng = np.random.default_rng(1)
    image = cv2.GaussianBlur(rng.integers(0, 256, (size[1], size[0], 3), np.uint8), (5, 5), 0)
    stats = min(_timed(lambda: picture_stats(image)) for _ in range(repeats))
    jpeg = min(
        _timed(lambda: cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90]))
        for _ in range(repeats)
    )
    return stats * 1000, jpeg * 1000


def _clips() -> list[tuple[tuple[str, str], tuple[int, int]]]:
    return [((kind, name), size) for kind in ("noisy", "flat") for name, size in SIZES.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fps", type=float, nargs="+", default=[1, 5])
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'picture':8} {'stats ms':>9} {'JPEG ms':>8}")
    for name, size in SIZES.items():
        stats_ms, jpeg_ms = _per_picture(size)
        print(f"{name:8} {stats_ms:9.2f} {jpeg_ms:8.2f}")
    print()
    print(f"{'clip':14} {'fps':>4} {'frames':>6} {'no stats s':>10} {'stats s':>8} {'ratio':>6}")
    with tempfile.TemporaryDirectory(prefix="bench-stats-") as folder:
        for (kind, name), size in _clips():
            path = Path(folder) / f"{kind}-{name}.mp4"
            if kind == "noisy":
                make_clip(path, round(args.seconds), f"{size[0]}x{size[1]}", ALIGNED_GOP30)
            else:
                write_clip(path, seconds=args.seconds, fps=Fraction(30), size=size, gop=30)
            name = f"{kind} {name}"
            for fps in args.fps:
                without, with_stats = [], []
                for _ in range(args.runs):
                    without.append(_extraction(path, fps, _no_stats))
                    with_stats.append(_extraction(path, fps, picture_stats))
                base, shipped = statistics.median(without), statistics.median(with_stats)
                frames = round(args.seconds * fps)
                print(
                    f"{name:14} {fps:4g} {frames:6d} {base:10.3f} {shipped:8.3f} "
                    f"{shipped / base:6.3f}"
                )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
