"""`python -m frameforge.dagster_daemon run …`: Dagster's ``dagster-daemon`` command, its log
made fit to read in a file (what `frameforge up` runs; its lines are JSON, ``--log-format json``).

- No line twice. Dagster's loggers write with their own handler and also pass every line up to
  the root logger, which has none: a library calling ``logging.info(…)`` on the root (Dagster's
  SQLite event log does, when two processes create a run's database at once) makes Python give
  it its default handler, and from then on every line is written again as
  ``INFO:dagster.daemon.SensorDaemon:…``. The root logger gets a handler here, for the lines of
  every other library (as JSON, ``frameforge_core.logs``), so Python never adds its own.
- A quick end: once Dagster's daemon has stopped its threads and code servers, the process
  ends without Python's teardown (seconds of garbage collection; ``console.exit_at_once``).
- No news of nothing: each sensor's "Checking for new runs" and "skipped" at every tick (eight
  sensors, about one line a second at idle) are debug lines, shown with ``--log-level debug``.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from frameforge.console import exit_at_once
from frameforge_core.logs import configure, demote

SENSOR_DAEMON = "dagster.daemon.SensorDaemon"
_IDLE = ("Checking for new runs for sensor: ", "No run requests returned for ")


class _NotDagsters(logging.Filter):
    """Lines of loggers other than Dagster's, which have a handler of their own."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "dagster" and not record.name.startswith("dagster.")


def _idle_tick(message: str) -> bool:
    """A sensor tick that found nothing to do."""
    return message.startswith(_IDLE) or (message.startswith("Sensor ") and " skipped: " in message)


def fit_logging() -> None:
    """The root logger's handler and the sensor daemon's filter, before Dagster configures its
    own loggers (which leaves both alone)."""
    configure("daemon", level="WARNING")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_NotDagsters())
    demote(SENSOR_DAEMON, _idle_tick)


def main() -> None:
    fit_logging()
    [daemon] = entry_points(group="console_scripts", name="dagster-daemon")
    try:
        daemon.load()()
        code: object = 0
    except SystemExit as done:  # how a click command ends
        code = done.code
    # its threads joined and its code servers shut down: Python's teardown would add seconds
    exit_at_once(code if isinstance(code, int) else int(code is not None))


if __name__ == "__main__":
    main()
