"""The ``frameforge`` command: one-shot extraction, the whole stack, its worker, the demo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import av
from pydantic import ValidationError

from frameforge_pipeline.engine import ExtractionResult, ExtractOptions, VideoError
from frameforge_pipeline.engine.options import validation_message

EXIT_REJECTED = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frameforge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    extract = commands.add_parser(
        "extract",
        help="extract frames of one video into a ZIP with manifest.json",
        description="Extract frames of VIDEO into a ZIP (frames + manifest.json). No services.",
    )
    extract.add_argument("video", type=Path, metavar="VIDEO")
    extract.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.zip")
    extract.add_argument("--fps", type=float, help="frames per second of video (default 1)")
    extract.add_argument("--format", choices=["jpg", "png", "webp"], help="image format")
    extract.add_argument("--quality", type=int, help="1-100 for jpg and webp (default 90)")
    extract.add_argument("--max-width", type=int, help="shrink to at most this width")
    extract.add_argument("--max-height", type=int, help="shrink to at most this height")
    extract.add_argument("--start", type=float, help="first second to sample (default 0)")
    extract.add_argument("--end", type=float, help="stop before this second")
    extract.add_argument(
        "--mode", choices=["interval", "keyframes"], help="the fps grid (default) or keyframes"
    )
    extract.add_argument("-q", "--quiet", action="store_true", help="no progress, no summary")
    extract.add_argument("--json", action="store_true", help="print the summary as JSON")

    commands.add_parser(
        "demo", help="run the pipeline once on a generated sample video (embedded default)"
    )
    up = commands.add_parser(
        "up", help="start the API, the Dagster webserver and daemon and the worker"
    )
    up.add_argument("--api-port", type=int, default=8000)
    up.add_argument("--dagster-port", type=int, default=3000)
    up.add_argument("--host", default="127.0.0.1")
    commands.add_parser(
        "worker", help="relay queued messages and send job notifications (email, webhooks)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from frameforge_api.demo import run_demo  # services load only when needed

        return run_demo()
    if args.command == "up":
        from frameforge_api.stack import run_stack

        return run_stack(args.api_port, args.dagster_port, args.host)
    if args.command == "worker":
        from frameforge_worker.worker import main as run_worker

        return run_worker()
    return _extract(args)


def _options(args: argparse.Namespace) -> ExtractOptions:
    given: dict[str, Any] = {
        name: getattr(args, name)
        for name in ExtractOptions.model_fields
        if getattr(args, name, None) is not None
    }
    return ExtractOptions(**given)


def _reject(message: str) -> int:
    print(f"frameforge: {message}", file=sys.stderr)
    return EXIT_REJECTED


def _extract(args: argparse.Namespace) -> int:
    from frameforge_pipeline.local_extract import extract_to_zip

    try:
        options = _options(args)
    except ValidationError as error:
        return _reject(f"invalid options: {validation_message(error)}")
    if not args.video.is_file():
        return _reject(f"{args.video}: no such file")
    interactive = sys.stderr.isatty() and not args.quiet
    try:
        result = extract_to_zip(args.video, args.output, options, show_progress=interactive)
    except VideoError as error:
        return _reject(f"{args.video}: {error}")
    except av.FFmpegError as error:  # damage found past the first frames
        return _reject(f"{args.video}: the video cannot be decoded ({error.strerror or error})")
    except OSError as error:
        return _reject(f"{args.output}: {error.strerror or error}")
    summary = _summary(args.video, args.output, result)
    if args.json:
        print(json.dumps(summary))
    elif interactive:
        print(_summary_line(summary), file=sys.stderr)
    return 0


def _summary(video: Path, output: Path, result: ExtractionResult) -> dict[str, Any]:
    duration = None if result.facts.duration is None else float(result.facts.duration)
    return {
        "video": str(video),
        "output": str(output),
        "frames": len(result.frames),
        "format": result.options.format,
        "width": result.frames[0].width if result.frames else result.facts.width,
        "height": result.frames[0].height if result.frames else result.facts.height,
        "videoSeconds": None if duration is None else round(duration, 3),
        "seconds": round(result.seconds, 3),
        "realtimeFactor": None if duration is None else round(duration / result.seconds, 1),
        "corruptFrames": result.corrupt_frames,
        "truncated": result.truncated,
        "zipBytes": output.stat().st_size,
    }


def _summary_line(s: dict[str, Any]) -> str:
    source = "" if s["videoSeconds"] is None else f" from {s['videoSeconds']:.1f} s of video"
    speed = "" if s["realtimeFactor"] is None else f" ({s['realtimeFactor']}x realtime)"
    corrupt = f", {s['corruptFrames']} corrupt frames skipped" if s["corruptFrames"] else ""
    if s["truncated"]:
        corrupt += ", the file ends early (truncated?)"
    return (
        f"{s['frames']} frames ({s['width']}x{s['height']} {s['format']}){source} "
        f"in {s['seconds']:.1f} s{speed}{corrupt} -> {s['output']} ({s['zipBytes'] / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    sys.exit(main())
