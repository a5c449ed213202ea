"""Extraction speed and memory against the ffmpeg CLI, measured in the same run.

    python bench/extract.py [--seconds 60] [--size 1920x1080] [--runs 3] [--only NAME ...]
                            [--baseline DIR] [--quick]

Generates H.264 clips with the ffmpeg CLI's libx264 (testsrc2 + temporal noise, 30 fps,
about 17 Mbps at 1080p, decoding at the speed of BENCHMARKS.md's reference clips):

- ``aligned-gop250`` and ``aligned-gop30``: a fixed keyframe interval of 250 or 30 frames,
  scene-cut detection off, so on the 1 s GOP every 1 fps target is a keyframe;
- ``x264-gop30`` and ``x264-gop250``: what a real encode looks like, x264's defaults with
  only ``-g`` set (B-frames, scene-cut keyframes, ``keyint_min`` free): keyframes fall every
  29 frames or at cuts, not on the targets.

Then times, per clip: the decode floor (`ffmpeg -f null`), what people run today
(`ffmpeg -vf fps=1`), ffmpeg's keyframes-only decode, and `frameforge extract` in interval
and keyframes mode (and, with --baseline, the interval mode of another checkout, e.g. the
last commit unpacked with `git archive HEAD | tar -x -C DIR`); --quick times only the
floor, the reference and the interval mode (and the baseline). Runs are interleaved (run 1
of every approach, then run 2 ...) so that a change in the machine's load hits all of them.
Prints the median wall time, the median CPU time (user + system, of the process and its
children), the ratio of wall times to `ffmpeg -vf fps=1`, peak RSS, and the load average
before and after each clip. Needs the ffmpeg CLI (Debian: apt-get install ffmpeg); the tests
do not.
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
REFERENCE = "ffmpeg -vf fps=1 -q:v 2"
OURS = "frameforge extract (interval, 1 fps)"
BASELINE = "baseline extract (interval, 1 fps)"

# name: libx264 options, the ratio the interval mode should stay under
CLIPS: dict[str, tuple[list[str], float]] = {
    "aligned-gop250": (["-g", "250", "-keyint_min", "250", "-sc_threshold", "0"], 1.0),
    "aligned-gop30": (["-g", "30", "-keyint_min", "30", "-sc_threshold", "0"], 0.5),
    "x264-gop30": (["-g", "30"], 0.5),
    "x264-gop250": (["-g", "250"], 1.0),
}


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one process (with its children)."""
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if status != 0:
        said = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"failed: {' '.join(command)}\n{said}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def make_clip(path: Path, seconds: int, size: str, x264: list[str]) -> None:
    if path.exists():
        return
    print(f"generating {path.name} ({seconds} s, {size}, {' '.join(x264)}) ...", flush=True)
    partial = path.with_suffix(".part.mp4")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30",
         "-vf", "noise=alls=8:allf=t", "-t", str(seconds), "-c:v", "libx264",
         "-preset", "fast", *x264, "-pix_fmt", "yuv420p", str(partial)],
        check=True,
    )  # fmt: skip
    partial.rename(path)


def approaches(
    clip: Path, scratch: Path, baseline: Path | None, quick: bool
) -> dict[str, list[str]]:
    jpgs = scratch / "ffmpeg"
    commands = {
        "ffmpeg -f null (decode floor)": [
            "ffmpeg", "-v", "error", "-i", str(clip), "-f", "null", "-"
        ],
        REFERENCE: [
            "sh", "-c", f'rm -rf "{jpgs}" && mkdir -p "{jpgs}" && ffmpeg -v error -i "{clip}" '
            f'-vf fps=1 -q:v 2 "{jpgs}/%05d.jpg"',
        ],
        "ffmpeg -skip_frame nokey": [
            "sh", "-c", f'rm -rf "{jpgs}" && mkdir -p "{jpgs}" && ffmpeg -v error '
            f'-skip_frame nokey -i "{clip}" -fps_mode vfr -q:v 2 "{jpgs}/%05d.jpg"',
        ],
        OURS: [
            str(FRAMEFORGE), "extract", str(clip), "-o", str(scratch / "i.zip"), "--quiet"
        ],
        "frameforge extract --mode keyframes": [
            str(FRAMEFORGE), "extract", str(clip), "-o", str(scratch / "k.zip"), "--quiet",
            "--mode", "keyframes",
        ],
    }  # fmt: skip
    if baseline is not None:
        commands[BASELINE] = [*commands[OURS][:3], "-o", str(scratch / "b.zip"), "--quiet"]
    if quick:
        del commands["ffmpeg -skip_frame nokey"], commands["frameforge extract --mode keyframes"]
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clips", type=Path, default=Path("bench/out"))
    parser.add_argument("--only", nargs="+", choices=sorted(CLIPS), default=list(CLIPS))
    parser.add_argument("--baseline", type=Path, help="a checkout to time beside this one")
    parser.add_argument("--quick", action="store_true", help="no keyframes-only approaches")
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        raise SystemExit("the ffmpeg CLI is the reference: apt-get install ffmpeg")
    args.clips.mkdir(parents=True, exist_ok=True)
    baseline_env = None
    if args.baseline is not None:  # its modules first on the path: the same venv, its code
        baseline_env = {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}
    print(
        f"machine: {os.cpu_count()} cores; median of {args.runs} interleaved runs; "
        "ratio = wall time / ffmpeg fps=1"
    )
    for name in args.only:
        x264, target = CLIPS[name]
        clip = args.clips / f"{args.size}-{args.seconds}s-{name}.mp4"
        make_clip(clip, args.seconds, args.size, x264)
        before = load()
        with tempfile.TemporaryDirectory() as tmp:
            commands = approaches(clip, Path(tmp), args.baseline, args.quick)
            samples: dict[str, list[tuple[float, float, float]]] = {n: [] for n in commands}
            for _ in range(args.runs):
                for approach, command in commands.items():
                    env = baseline_env if approach == BASELINE else None
                    samples[approach].append(run(command, env))
                    wall, cpu, _ = samples[approach][-1]
                    print(f"  {approach}: {wall:.2f} s, CPU {cpu:.2f} s", file=sys.stderr)
        rows = {
            approach: (
                statistics.median(s[0] for s in runs),
                statistics.median(s[1] for s in runs),
                max(s[2] for s in runs),
            )
            for approach, runs in samples.items()
        }
        reference = rows[REFERENCE][0]
        print(f"\n{clip.name} ({clip.stat().st_size / 1e6:.0f} MB); load {before} -> {load()}")
        print(f"  {'approach':40} {'wall s':>8} {'CPU s':>8} {'ratio':>7} {'peak RSS MB':>12}")
        for approach, (seconds, cpu, rss) in rows.items():
            ratio = seconds / reference
            print(f"  {approach:40} {seconds:8.2f} {cpu:8.2f} {ratio:7.2f} {rss:12.0f}")
        ours, _, rss = rows[OURS]
        verdict = "met" if ours / reference <= target and rss < 300 else "MISSED"
        print(f"  target interval <= {target}x ffmpeg fps=1 and < 300 MB: {verdict}")


if __name__ == "__main__":
    main()
