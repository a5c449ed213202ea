"""What measuring a video whose header declares no duration costs the probe.

    python bench/undeclared_length.py [--seconds 120] [--repeat 5]

Writes a raw H.264 stream (no container, no duration: ``-f h264``) with PyAV, then times, in
this process: the probe without a length limit (the reference: it decodes one frame), the
probe with a limit longer than the stream (it reads every packet, no decoding, and passes),
the probe with a limit half the stream (it stops at the limit and refuses), and the whole
extraction at 1 fps without limits, the work a refusal saves. Prints CPU seconds (best of
``--repeat``) and each as a ratio to the reference.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from frameforge_pipeline.engine.errors import VideoTooLongError
from frameforge_pipeline.engine.extractor import extract
from frameforge_pipeline.engine.limits import Limits
from frameforge_pipeline.engine.options import ExtractOptions
from frameforge_pipeline.engine.probe import probe
from frameforge_pipeline.samples import write_clip


class _Discard:
    def write(self, record: object, data: bytes) -> None:
        pass


def _best(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.process_time()
        with contextlib.suppress(VideoTooLongError):
            work()
        times.append(time.process_time() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "raw.h264"
        write_clip(path, seconds=args.seconds, fps=Fraction(25), size=(320, 240), gop=250)
        seconds = Fraction(args.seconds)
        cases = {
            "probe, no length limit (reference)": lambda: probe(path),
            "probe, limit past the end: measured whole": lambda: probe(
                path, Limits(max_seconds=seconds + 1)
            ),
            "probe, limit at half: refused there": lambda: probe(
                path, Limits(max_seconds=seconds / 2)
            ),
            "extraction at 1 fps, no limit": lambda: extract(path, ExtractOptions(), _Discard()),
        }
        print(f"raw H.264, {args.seconds} s at 25 fps, 320x240, {path.stat().st_size} bytes")
        timed = {name: _best(work, args.repeat) for name, work in cases.items()}
        reference = next(iter(timed.values()))
        for name, cpu in timed.items():
            print(f"{name:45s} {cpu * 1000:8.1f} ms CPU  {cpu / reference:6.1f}x")


if __name__ == "__main__":
    main()
