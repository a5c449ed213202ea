"""Extraction speed and memory against the ffmpeg CLI, measured in the same run.

    python bench/extract.py [--seconds 60] [--size 1920x1080] [--runs 3]

Generates two H.264 clips with the ffmpeg CLI (testsrc2 + temporal noise, 30 fps, about
17 Mbps at 1080p, decoding at the speed of BENCHMARKS.md's reference clips): one with
a long GOP (250 frames) and one with a 1 s GOP (30 frames). Then times, per clip:
the decode floor (`ffmpeg -f null`), what people run today (`ffmpeg -vf fps=1`), ffmpeg's
keyframes-only decode, and `frameforge extract` in interval and keyframes mode. Prints the
median wall time of --runs runs, the ratio to `ffmpeg -vf fps=1`, and peak RSS per process.
Needs the ffmpeg CLI (Debian: apt-get install ffmpeg); the tests do not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAMEFORGE = Path(sys.executable).with_name("frameforge")


def run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process."""
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def make_clip(path: Path, seconds: int, size: str, gop: int) -> None:
    if path.exists():
        return
    print(f"generating {path.name} ({seconds} s, {size}, GOP {gop}) ...", flush=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30",
         "-vf", "noise=alls=8:allf=t", "-t", str(seconds), "-c:v", "libx264",
         "-preset", "fast", "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
         "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip


def approaches(clip: Path, scratch: Path) -> dict[str, list[str]]:
    jpgs = scratch / "ffmpeg"
    return {
        "ffmpeg -f null (decode floor)": [
            "ffmpeg", "-v", "error", "-i", str(clip), "-f", "null", "-"
        ],
        "ffmpeg -vf fps=1 -q:v 2": [
            "sh", "-c", f'rm -rf "{jpgs}" && mkdir -p "{jpgs}" && ffmpeg -v error -i "{clip}" '
            f'-vf fps=1 -q:v 2 "{jpgs}/%05d.jpg"',
        ],
        "ffmpeg -skip_frame nokey": [
            "sh", "-c", f'rm -rf "{jpgs}" && mkdir -p "{jpgs}" && ffmpeg -v error '
            f'-skip_frame nokey -i "{clip}" -fps_mode vfr -q:v 2 "{jpgs}/%05d.jpg"',
        ],
        "frameforge extract (interval, 1 fps)": [
            str(FRAMEFORGE), "extract", str(clip), "-o", str(scratch / "i.zip"), "--quiet"
        ],
        "frameforge extract --mode keyframes": [
            str(FRAMEFORGE), "extract", str(clip), "-o", str(scratch / "k.zip"), "--quiet",
            "--mode", "keyframes",
        ],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clips", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        raise SystemExit("the ffmpeg CLI is the reference: apt-get install ffmpeg")
    args.clips.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {os.cpu_count()} cores; median of {args.runs} runs; ratio = time / ffmpeg fps=1"
    )
    targets = {250: 1.0, 30: 0.5}
    for gop, target in targets.items():
        clip = args.clips / f"{args.size}-{args.seconds}s-gop{gop}.mp4"
        make_clip(clip, args.seconds, args.size, gop)
        with tempfile.TemporaryDirectory() as tmp:
            rows = {}
            for name, command in approaches(clip, Path(tmp)).items():
                samples = [run(command) for _ in range(args.runs)]
                rows[name] = (
                    statistics.median(s for s, _ in samples),
                    max(rss for _, rss in samples),
                )
        reference = rows["ffmpeg -vf fps=1 -q:v 2"][0]
        print(f"\n{clip.name} ({clip.stat().st_size / 1e6:.0f} MB)")
        print(f"  {'approach':40} {'wall s':>8} {'ratio':>7} {'peak RSS MB':>12}")
        for name, (seconds, rss) in rows.items():
            print(f"  {name:40} {seconds:8.2f} {seconds / reference:7.2f} {rss:12.0f}")
        ours, rss = rows["frameforge extract (interval, 1 fps)"]
        verdict = "met" if ours / reference <= target and rss < 300 else "MISSED"
        print(f"  target interval <= {target}x ffmpeg fps=1 and < 300 MB: {verdict}")


if __name__ == "__main__":
    main()
