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
from frameforge_pipeline.gateway.job_runs import TRACE_ID_TAG

CONSOLE = "console"  # the name of Dagster's default logger, replaced by this one
RUN_LOGGERS: dict[str, Any] = {"loggers": {CONSOLE: {}}}


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
