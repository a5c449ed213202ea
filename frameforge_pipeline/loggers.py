"""The console logger of runs: Dagster's events and the assets' messages as the JSON lines every
FrameForge process writes (``frameforge_core.logs.JsonFormatter``), or plain text with
``FRAMEFORGE_LOG_FORMAT=text``.

Dagster picks a run's loggers from the run's config, and falls back to its coloured text logger
when the config names none. So the jobs name this one in their default config, and every run
FrameForge asks for carries ``RUN_LOGGERS`` (retries and re-executions copy their parent's).

While steps run, Dagster points the process's stderr at a file (the step's captured logs) and
copies that file back to stderr with ``tail -F``, which it stops as soon as the steps end: a
line written in the last second of a run, a step's failure among them, could reach the file
and never the container's log. So this logger writes to the stderr the process had when the
run started, line by line, and every event reaches the log at once.

Dagster logs every failed step and run at level error with its stack trace. Two of them are
the service at work, not a fault, and are logged as what they are (``RunEventLevels``): a
user's cancel is one info line (the run canceled; its interrupted steps at debug), a rejected
video one warning line with the reason (the run's end at info), neither with a stack trace.
Every other failure stays an error with its error.
"""

from __future__ import annotations

import logging
import os
import sys
import weakref
from typing import Any, TextIO

import dagster as dg

from frameforge_core.logs import JsonFormatter, bound
from frameforge_core.settings import LogSettings
from frameforge_pipeline.gateway.job_runs import REJECTED_TAG, TRACE_ID_TAG

_INTERRUPTED = "DagsterExecutionInterruptedError"  # what a cancel raises in the run's steps
CONSOLE = "console"  # the name of Dagster's default logger, replaced by this one
RUN_LOGGERS: dict[str, Any] = {"loggers": {CONSOLE: {}}}


class RunEventLevels(logging.Filter):
    """Gives a cancel's and a rejection's lines the level of a normal event, and marks them
    (``expected``) so that no error is added to them."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, "dagster_meta", None)
        if isinstance(meta, dict) and (normal := _normal_event(meta)) is not None:
            level, message = normal
            record.levelno, record.levelname = level, logging.getLevelName(level)
            record.dagster_meta = {**meta, "orig_message": message}
            record.msg, record.args, record.expected = message, (), True
        return True


def _normal_event(meta: dict[str, Any]) -> tuple[int, str] | None:
    """The level and message of a line that reports no fault; None for any other line."""
    message = str(meta.get("orig_message") or "")
    event = meta.get("dagster_event")
    if event is None:  # the steps left out after a failure, which has its own line
        if message.startswith("Dependencies for step ") and message.endswith("Not executing."):
            return logging.DEBUG, message
        return None
    kind, data = event.event_type.name, event.event_specific_data
    if kind == "RUN_CANCELED":
        return logging.INFO, message
    if kind == "STEP_FAILURE" and _interrupted(getattr(data, "error", None)):
        return logging.DEBUG, f'step "{meta.get("step_key")}" interrupted'  # the run says why
    if kind == "STEP_FAILURE" and (reason := _rejection(data)):
        return logging.WARNING, reason
    first = getattr(data, "first_step_failure_event", None) if kind == "RUN_FAILURE" else None
    if first is not None and (reason := _rejection(first.event_specific_data)):
        return logging.INFO, f"{message} {reason}"
    return None


def _interrupted(error: Any) -> bool:
    """Whether the error is, or was raised by, a cancel's interruption of the step."""
    while error is not None:
        if error.cls_name == _INTERRUPTED:
            return True
        error = error.cause or error.context
    return False


def _rejection(step_failure: Any) -> str | None:
    """The reason a step failed on its video (``extraction.rejected``); None for any other."""
    failure = getattr(step_failure, "user_failure_data", None)
    if failure is None or REJECTED_TAG not in failure.metadata:
        return None
    return str(failure.description)


class RunJsonFormatter(JsonFormatter):
    """``JsonFormatter`` with the run's ids: the trace id from the run's tags, and the run,
    step and event in ``context``; the message is the step's own, without Dagster's prefix."""

    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", None)
        if not isinstance(meta, dict):
            return super().format(record)
        event = meta.get("dagster_event")
        context = {
            "runId": meta.get("run_id"),
            "job": meta.get("job_name"),
            "step": meta.get("step_key"),
            "event": event.event_type.name if event is not None else None,
        }
        # a step's or run's failure: its error, which the message ("Execution of step ...
        # failed.") does not say and an operator reading the logs needs
        error = getattr(event.event_specific_data, "error", None) if event is not None else None
        if getattr(record, "expected", False):  # a cancel or a rejection: no fault to trace
            error = None
        context["error"] = error.to_string() if error is not None else None
        record.context = {key: value for key, value in context.items() if value is not None}
        record.msg, record.args = meta.get("orig_message", record.msg), ()
        with bound(trace_id=(meta.get("job_tags") or {}).get(TRACE_ID_TAG)):
            return super().format(record)


@dg.logger(
    {"log_level": dg.Field(str, default_value="DEBUG", description="The logger's threshold.")},
    description="FrameForge's console logger: one JSON object per line (FRAMEFORGE_LOG_FORMAT).",
)
def console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    """A logger of its own (not in ``logging``'s tree), writing to stderr as Dagster's does."""
    logger = logging.Logger("dagster", level=init_context.logger_config["log_level"].upper())
    handler = logging.StreamHandler(_stderr_as_it_is_now(owner=logger))
    handler.addFilter(RunEventLevels())
    if LogSettings().log_format == "json":
        handler.setFormatter(RunJsonFormatter("run"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s"))
    logger.addHandler(handler)
    return logger


def _stderr_as_it_is_now(owner: object) -> TextIO:
    """A stream on a copy of the process's stderr as it is now, so that Dagster's capture of the
    steps' output (which moves stderr itself) does not delay or drop our lines; closed with
    ``owner``. ``sys.stderr`` itself when it has no file (a test's in-memory capture)."""
    try:
        descriptor = os.dup(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return sys.stderr
    # closed with its owner, not at the end of a block
    stream = open(descriptor, "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
    weakref.finalize(owner, stream.close)
    return stream
