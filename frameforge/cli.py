"""The ``frameforge`` command: one-shot extraction, the whole stack, its worker, the demo,
the database migration that deployments run once before the services, and SQL over every
extracted frame."""

from __future__ import annotations

import argparse
import functools
import json
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

import av
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from frameforge.console import fail
from frameforge_pipeline.engine.errors import VideoError
from frameforge_pipeline.engine.options import (
    BARE_FLAG_VALUES,
    ExtractOptions,
    constraint_text,
    validation_message,
)
from frameforge_pipeline.engine.records import ExtractionResult

EXIT_REJECTED = 2
# what `frameforge query` writes (frameforge.query: show draws the table, write the rest);
# named here, as the query module loads DuckDB and pyarrow, which other commands never need
QUERY_FORMATS = ("table", "csv", "json", "parquet")


def _add_option_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per field of ExtractOptions (``max_width`` -> ``--max-width``), its type,
    choices and help taken from the field."""
    for name, option in ExtractOptions.model_fields.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, **_flag(name, option))


def _flag(name: str, option: FieldInfo) -> dict[str, Any]:
    kind = option.annotation
    if typing.get_origin(kind) in (typing.Union, types.UnionType):  # "int | None": an int
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    default = f"default {option.default}" if option.default is not None else ""
    notes = ", ".join(note for note in (constraint_text(name), default) if note)
    help_text = f"{option.description} ({notes})" if notes else option.description
    if typing.get_origin(kind) is typing.Literal:
        return {"choices": list(typing.get_args(kind)), "help": help_text}
    if kind is bool:
        return {"action": argparse.BooleanOptionalAction, "help": help_text}
    if name in BARE_FLAG_VALUES:  # --dedupe alone, or --dedupe 4
        bare = BARE_FLAG_VALUES[name]
        return {"type": kind, "nargs": "?", "const": bare, "metavar": "DISTANCE", "help": help_text}
    return {"type": kind, "help": help_text}


DESCRIPTION = """\
FrameForge turns videos into frames. Extract one video into a ZIP here and now, or run
the whole service (the API and its page, the Dagster webserver and daemon, the worker) on
this machine, and query every extracted frame with SQL. `frameforge COMMAND --help` says
more of each."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frameforge", description=DESCRIPTION, formatter_class=_Paragraphs
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    extract = commands.add_parser(
        "extract",
        help="extract frames of one video into a ZIP with manifest.json",
        description="Extract frames of VIDEO into a ZIP (frames + manifest.json). No services.",
    )
    extract.add_argument("video", type=Path, metavar="VIDEO")
    extract.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.zip")
    _add_option_flags(extract)
    extract.add_argument("-q", "--quiet", action="store_true", help="no progress, no summary")
    extract.add_argument("--json", action="store_true", help="print the summary as JSON")

    commands.add_parser(
        "demo",
        help="take a generated clip from upload to ZIP through the whole stack, then stop",
        description="Start the whole stack on free ports, in a data dir of its own "
        "(./.frameforge-demo, apart from the one `frameforge up` uses), take a generated "
        "10 s clip from upload to its ZIP and its email over HTTP as a user would, say where "
        "each is and how long each part took, and stop. No services needed.",
        formatter_class=_Paragraphs,
    )
    up = commands.add_parser(
        "up",
        help="run the API and its page, the Dagster webserver and daemon and the worker",
        description="Run the API and the page for users, the Dagster webserver, the Dagster "
        "daemon and the worker on one data dir ($FRAMEFORGE_HOME, by default ./.frameforge), "
        "with the servers the environment names (docs/configuration.md). It prints where "
        "they are, then one line per change of a job's state; each process's whole log goes "
        "to the data dir's logs/ folder. Ctrl-C stops all of them, and so does the death of "
        "any one.",
        formatter_class=_WithDefaults,
    )
    up.add_argument("--api-port", type=int, default=8000, help="the API's and the page's port")
    up.add_argument("--dagster-port", type=int, default=3000, help="the Dagster UI's port")
    up.add_argument("--host", default="127.0.0.1", help="the address both listen on")
    up.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="every process's log on this terminal instead of in logs/",
    )
    commands.add_parser(
        "daemon",
        help="run the Dagster daemon, stopping it (exit 1) when it stops reporting",
        usage="frameforge daemon [-h] [DAGSTER_DAEMON_RUN_ARGS ...]",
        description="Run `dagster-daemon run` with the arguments given (e.g. `-w "
        "workspace.yaml --log-format json`) and watch its heartbeats as `frameforge up` does: "
        "a daemon one of whose types has not reported for "
        "FRAMEFORGE_DAEMON_HEARTBEAT_TOLERANCE_SECONDS (a thread stuck on a call that never "
        "returns) is stopped and the command exits 1, for the container engine or any "
        "supervisor to restart it (compose restarts what exits, not what is unhealthy). "
        "SIGTERM and Ctrl-C stop the daemon; the command exits with its code.",
        formatter_class=_Paragraphs,
    )
    commands.add_parser(
        "worker",
        help="relay queued messages and send job notifications (email, webhooks)",
        description="Relay the outbox (jobs created, jobs ended) to RabbitMQ, or straight to "
        "the notifier without one, and tell users of ended jobs by email and webhook (3 "
        "attempts each). `frameforge up` runs one; in production it is a service of its own.",
        formatter_class=_Paragraphs,
    )
    commands.add_parser(
        "migrate",
        help="bring the app database to the newest schema (once, under a lock)",
        description="Bring the app database ($DATABASE_URL, or the data dir's SQLite) to the "
        "newest schema, under a lock, so several processes starting at once migrate once: "
        "what a deployment runs before the services.",
        formatter_class=_Paragraphs,
    )
    query = commands.add_parser(
        "query",
        help="run SQL over every extracted frame (the view `frames`)",
        description="Run SQL (DuckDB) over the frame index: the view `frames` has one row per "
        "frame (docs/analysts.md). A table on a terminal, CSV otherwise.",
    )
    query.add_argument("sql", metavar="SQL")
    query.add_argument("--format", choices=QUERY_FORMATS)
    query.add_argument("-o", "--output", type=Path, metavar="FILE")
    return parser


class _Paragraphs(argparse.RawDescriptionHelpFormatter):
    """The description wrapped to the terminal, but as written into paragraphs."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        wrap = functools.partial(
            textwrap.fill,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,  # ./.frameforge-demo stays whole
        )
        return "\n\n".join(wrap(" ".join(p.split())) for p in text.split("\n\n"))


class _WithDefaults(_Paragraphs):
    """Paragraphs, and each option's default after its help (a flag's need not be said)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return action.help
        return f"{action.help} (default: %(default)s)"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "daemon":  # the rest is dagster-daemon run's
        args.dagster_daemon_args = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "extract":
        return _extract(args)
    if args.command == "query":
        return _query(args)
    try:
        return _service(args)
    except ValidationError as error:  # a setting the environment got wrong
        return fail(f"configuration error: {validation_message(error)}")
    except OSError as error:  # a data dir it cannot create or write, a port taken
        return fail(str(error))


def _service(args: argparse.Namespace) -> int:
    """The commands that start services: a start-up failure is one line, exit 1."""
    if args.command == "demo":
        from frameforge.demo import run_demo  # services load only when needed

        return run_demo()
    if args.command == "up":
        from frameforge.console import exit_at_once
        from frameforge.stack import run_stack

        exit_at_once(run_stack(args.api_port, args.dagster_port, args.host, verbose=args.verbose))
    if args.command == "daemon":
        from frameforge.console import exit_at_once
        from frameforge.daemon import run_daemon

        exit_at_once(run_daemon(args.dagster_daemon_args))
    if args.command == "worker":
        from frameforge_worker.worker import main as run_worker

        return run_worker()
    if args.command == "migrate":
        import logging

        from frameforge.stack import migrate_app_database
        from frameforge_core import logs

        logs.configure("migrate")  # a deployment's job: JSON lines, Alembic's among them
        return migrate_app_database(logging.getLogger("frameforge.migrate").info)
    raise AssertionError(f"unknown command {args.command}")


def _options(args: argparse.Namespace) -> ExtractOptions:
    given: dict[str, Any] = {
        name: getattr(args, name)
        for name in ExtractOptions.model_fields
        if getattr(args, name, None) is not None
    }
    return ExtractOptions(**given)


def _rejected(message: str) -> int:
    return fail(message, EXIT_REJECTED)


def _extract(args: argparse.Namespace) -> int:
    from frameforge.extract import extract_to_zip
    from frameforge_core.settings import PictureLimitSettings
    from frameforge_pipeline.engine.limits import Limits

    picture = PictureLimitSettings()  # the operator's picture limits; no quota on one's own files
    limits = Limits.build(picture.max_picture_side, picture.max_picture_pixels)

    try:
        options = _options(args)
    except ValidationError as error:
        return _rejected(f"invalid options: {validation_message(error)}")
    if not args.video.is_file():
        return _rejected(f"{args.video}: no such file")
    interactive = sys.stderr.isatty() and not args.quiet
    try:
        result = extract_to_zip(args.video, args.output, options, interactive, limits)
    except VideoError as error:
        return _rejected(f"{args.video}: {error}")
    except av.FFmpegError as error:  # damage found past the first frames
        return _rejected(f"{args.video}: the video cannot be decoded ({error.strerror or error})")
    except OSError as error:
        return _rejected(f"{args.output}: {error.strerror or error}")
    summary = _summary(args.video, args.output, result)
    if args.json:
        print(json.dumps(summary))
    elif interactive:
        print(_summary_line(summary), file=sys.stderr)
    return 0


def _query(args: argparse.Namespace) -> int:
    """Bad SQL is one line and exit 2; a store it cannot read, one line and exit 1."""
    from frameforge.query import main as run_query

    try:
        refused = run_query(args.sql, args.format, args.output)
    except OSError as error:
        return fail(str(error))
    return _rejected(refused) if refused else 0


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
        "seconds": round(result.work.seconds, 3),
        "realtimeFactor": None if duration is None else round(duration / result.work.seconds, 1),
        "corruptFrames": result.work.corrupt_frames,
        "truncated": result.work.truncated,
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
