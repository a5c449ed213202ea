"""JSON log lines: the shape DESIGN.md gives every process, whatever the message holds."""

import datetime as dt
import json
import logging
import math
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frameforge_core.logs import JsonFormatter, bound, configure
from frameforge_core.settings import former_names
from frameforge_worker.settings import WorkerSettings

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
REQUIRED = {"timestamp", "level", "service", "traceId", "message"}


def record(message: str = "hello", context: Any = None, exc_info: Any = None) -> logging.LogRecord:
    made = logging.LogRecord("frameforge.test", logging.INFO, __file__, 1, message, None, exc_info)
    if context is not None:
        made.context = context
    return made


def strict_json(line: str) -> dict[str, Any]:
    """Parse as a strict parser would: no NaN or Infinity, one line."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    assert "\n" not in line
    parsed: dict[str, Any] = json.loads(line, parse_constant=refuse)
    return parsed


def test_a_line_outside_any_request_has_only_the_required_keys():
    entry = strict_json(JsonFormatter("api").format(record()))
    assert entry.keys() == REQUIRED
    assert TIMESTAMP.match(entry["timestamp"])
    assert (entry["level"], entry["service"], entry["traceId"], entry["message"]) == (
        "info", "api", None, "hello",
    )  # fmt: skip


def test_a_line_carries_the_log_context_the_extra_context_and_the_error():
    try:
        raise ValueError("bad frame rate")
    except ValueError:
        failed = record("extraction failed", {"jobId": "j1", "frames": 3}, sys.exc_info())
    with bound(trace_id="t" * 32, request_id="r1", user_id="u1"):
        entry = strict_json(JsonFormatter("pipeline").format(failed))
    assert entry["traceId"] == "t" * 32
    assert (entry["requestId"], entry["userId"]) == ("r1", "u1")
    assert entry["context"] == {"jobId": "j1", "frames": 3}
    assert entry["error"]["name"] == "ValueError"
    assert entry["error"]["message"] == "bad frame rate"
    assert entry["error"]["stack"].startswith("Traceback")
    assert 'raise ValueError("bad frame rate")' in entry["error"]["stack"]


def test_values_json_cannot_encode_are_logged_as_text():
    entry = strict_json(JsonFormatter("api").format(record(context={"day": dt.date(2026, 1, 2)})))
    assert entry["context"] == {"day": "2026-01-02"}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(finite(item) for item in value)
    if isinstance(value, dict):
        return all(finite(item) for item in value.values())
    return True


@given(message=st.text(), context=st.dictionaries(st.text(), JSON_VALUES, max_size=4))
def test_any_message_and_context_make_one_valid_json_line(message, context):
    entry = strict_json(JsonFormatter("api").format(record(message, context)))
    assert entry.keys() >= REQUIRED
    assert entry["message"] == message
    if context and finite(context):
        assert entry["context"] == context
    elif context:  # NaN or Infinity: kept as text rather than written as invalid JSON
        assert entry["context"] == {"repr": repr(context)}


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, restored after the test (configure changes it for the process)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_configure_installs_one_json_handler_however_often_it_runs(
    root_logger, monkeypatch, capsys
):
    monkeypatch.setenv("FRAMEFORGE_LOG_LEVEL", "debug")
    configure("worker")
    configure("worker")
    assert [h.name for h in root_logger.handlers].count("frameforge") == 1
    logging.getLogger("frameforge.test").debug("sent", extra={"context": {"attempt": 2}})
    entry = strict_json(capsys.readouterr().err.strip())
    assert (entry["service"], entry["level"], entry["context"]) == (
        "worker",
        "debug",
        {"attempt": 2},
    )


def test_configure_adopts_loggers_that_had_their_own_handlers(root_logger, capsys):
    server = logging.getLogger("frameforge.test.server")
    server.addHandler(logging.NullHandler())
    server.propagate = False
    configure("api", level="INFO", adopt=["frameforge.test.server"])
    server.info("started")
    assert strict_json(capsys.readouterr().err.strip())["message"] == "started"
    assert server.handlers == []
    assert server.propagate


def test_text_format_for_a_terminal(root_logger, monkeypatch, capsys):
    monkeypatch.setenv("FRAMEFORGE_LOG_FORMAT", "text")
    configure("api", level="INFO")
    logging.getLogger("frameforge.test").info("plain")
    assert capsys.readouterr().err.rstrip().endswith("INFO    frameforge.test: plain")


@pytest.mark.parametrize(
    ("variable", "value"), [("FRAMEFORGE_LOG_LEVEL", "loud"), ("FRAMEFORGE_LOG_FORMAT", "xml")]
)
def test_configure_refuses_unknown_settings(root_logger, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        configure("api")


def test_a_process_started_with_former_setting_names_says_so_once(root_logger, monkeypatch, capsys):
    monkeypatch.setenv("SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("S3_RESULTS_BUCKET", "old-results")
    monkeypatch.setenv("FRAMEFORGE_S3_RESULTS_BUCKET", "results")
    configure("worker")
    [entry] = [strict_json(line) for line in capsys.readouterr().err.splitlines()]
    assert entry["level"] == "warning"
    assert "SMTP_HOST (now FRAMEFORGE_SMTP_HOST)" in entry["message"]
    assert "S3_RESULTS_BUCKET (ignored: FRAMEFORGE_S3_RESULTS_BUCKET is set)" in entry["message"]
    assert entry["context"] == {
        "renamed": {
            "S3_RESULTS_BUCKET": "FRAMEFORGE_S3_RESULTS_BUCKET",
            "SMTP_HOST": "FRAMEFORGE_SMTP_HOST",
        }
    }
    assert WorkerSettings().smtp_host == "mail.example.com"  # still read, for this release


def test_a_process_started_with_the_names_of_now_says_nothing_of_them(
    root_logger, monkeypatch, capsys
):
    for old in former_names():
        monkeypatch.delenv(old, raising=False)
    monkeypatch.setenv("FRAMEFORGE_SMTP_HOST", "mail.example.com")
    configure("worker")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_alembic_checking_a_schema_is_a_debug_line(root_logger, monkeypatch, capsys, level):
    """Said once per process and per Dagster SQLite storage at every start: no news at info.
    A migration that runs is."""
    monkeypatch.setenv("FRAMEFORGE_LOG_LEVEL", level)
    configure("api")
    alembic = logging.getLogger("alembic.runtime.migration")
    alembic.info("Context impl %s.", "SQLiteImpl")
    alembic.info("Will assume %s DDL.", "non-transactional")
    alembic.info("Running upgrade %s -> %s, %s", "0041", "0042", "renditions")
    lines = [strict_json(line) for line in capsys.readouterr().err.splitlines()]
    upgrade = {"level": "info", "message": "Running upgrade 0041 -> 0042, renditions"}
    checks = [
        {"level": "debug", "message": "Context impl SQLiteImpl."},
        {"level": "debug", "message": "Will assume non-transactional DDL."},
    ]
    expected = [*checks, upgrade] if level == "DEBUG" else [upgrade]
    assert [{"level": e["level"], "message": e["message"]} for e in lines] == expected
