"""Peak memory of extracting the largest pictures the engine accepts, against the 2 GiB pod.

    python bench/giant_pictures.py [--frames 4] [--formats jpg,png] [--keep DIR]

Generates clips with PyAV (frameforge_pipeline.samples.write_clip, in a child process):
UHD 8K (7680x4320) in H.264 and HEVC, and DCI 8K (8192x4320, the default limit's largest
picture) in H.264, a few frames each at 2 fps. Runs `frameforge extract` on each, once per
format, in its own process, and reports that process's peak RSS (getrusage of the child,
via os.wait4) next to the 2 GiB memory limit of a run's pod. Exits 1 if any run reaches the limit.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAMEFORGE = Path(sys.executable).with_name("frameforge")
POD_LIMIT_MB = 2048

CLIPS = {  # name: (size, codec)
    "uhd8k-h264.mp4": ((7680, 4320), "libx264"),
    "uhd8k-hevc.mkv": ((7680, 4320), "libx265"),
    "dci8k-h264.mp4": ((8192, 4320), "libx264"),
}


def peak_rss(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process."""
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if status != 0:
        assert process.stderr is not None
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def make_clip(path: Path, size: tuple[int, int], codec: str, frames: int) -> None:
    """Encode in a process of its own: on Linux a child's peak RSS starts from its parent's
    (exec keeps the larger of the two), so this process stays small."""
    code = (
        "import sys; from fractions import Fraction; from pathlib import Path;"
        "from frameforge_pipeline.samples import write_clip;"
        "write_clip(Path(sys.argv[1]), seconds=int(sys.argv[4]) / 2, fps=Fraction(2),"
        " size=(int(sys.argv[2]), int(sys.argv[3])), codec=sys.argv[5])"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(path), *map(str, size), str(frames), codec], check=True
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=4, help="frames per clip (2 per second)")
    parser.add_argument("--formats", default="jpg,png")
    parser.add_argument("--keep", type=Path, help="keep the clips in this dir (reused)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ff-giant-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{'clip':<16} {'format':<6} {'frames':>6} {'seconds':>8} {'peak RSS':>10}  limit")
        worst = 0.0
        for name, (size, codec) in CLIPS.items():
            clip = folder / f"{args.frames}f-{name}"
            if not clip.exists():
                make_clip(clip, size, codec, args.frames)
            for fmt in args.formats.split(","):
                out = Path(scratch) / f"{clip.stem}-{fmt}.zip"
                command = [str(FRAMEFORGE), "extract", str(clip), "-o", str(out), "--quiet"]
                seconds, rss = peak_rss([*command, "--fps", "2", "--format", fmt])
                worst = max(worst, rss)
                share = f"{rss / POD_LIMIT_MB:.0%} of {POD_LIMIT_MB} MB"
                print(
                    f"{name:<16} {fmt:<6} {args.frames:>6} {seconds:>7.1f}s {rss:>7.0f} MB  {share}"
                )
        print(f"worst: {worst:.0f} MB, {'within' if worst < POD_LIMIT_MB else 'OVER'} the limit")
        return 0 if worst < POD_LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
