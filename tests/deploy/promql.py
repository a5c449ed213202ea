"""Metric names in PromQL expressions, and the names the running code exports.

``metric_names(expr)`` is a small tokenizer, not a PromQL parser: it removes what cannot be
a metric name (string literals, label matchers in ``{}``, ranges and subqueries in ``[]``,
label lists after ``by``/``without``/``on``/``ignoring``/``group_left``/``group_right``,
``offset`` and ``@`` modifiers, Grafana ``$variables``, numbers), then keeps the identifiers
that are neither keywords nor followed by ``(`` (functions and aggregations). The syntax
itself is checked by promtool (tests/deploy/test_grafana.py, test_prometheus.py).

``exported_metric_names(client)`` scrapes ``/metrics`` of an app built by the API tests'
fixtures and returns every sample name it exports, with the names each family's type
implies (a counter ``x`` exports ``x_total``, a histogram ``x_bucket``, ``x_sum``,
``x_count``), so that a labelled family with no sample yet still counts.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.api.scrape import scrape

# Names the FrameForge code does not export, each for its reason. Everything else an
# expression uses must come out of the scrape.
ALLOWED_FOREIGN = {
    # RabbitMQ's rabbitmq_prometheus plugin (job "rabbitmq", /metrics/per-object: labels
    # vhost and queue; names from the plugin's prometheus_rabbitmq_core_metrics_collector).
    "rabbitmq_queue_messages",
    "rabbitmq_queue_messages_ready",
    "rabbitmq_queue_messages_unacked",
    "rabbitmq_queue_consumers",
    "rabbitmq_process_resident_memory_bytes",
    # Made by Prometheus itself: every target's scrape health, and the alerts' state.
    "up",
    "ALERTS",
}
# prometheus_client's process collector (Linux): exported with one worker, absent in
# PROMETHEUS_MULTIPROC_DIR mode, so allowed whether or not this scrape has them.
ALLOWED_PREFIXES = ("process_",)

_KEYWORDS = {
    # binary operators and modifiers
    "and", "or", "unless", "atan2", "bool", "on", "ignoring", "group_left", "group_right",
    "by", "without", "offset",
    # aggregations (always followed by "(" or by "by (...)"/"without (...)" then "(")
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    # literals
    "inf", "nan",
}  # fmt: skip

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_MODIFIER = re.compile(r"\boffset\s+-?[0-9a-zA-Z.]+|@\s*(?:start\(\)|end\(\)|[0-9.eE+-]+)")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_NUMBER = re.compile(
    r"(?<![\w:])(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"(?:ms|[smhdwy])*(?![\w:])"
)
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects."""
    text = _STRING.sub(" ", expr)
    text = _VARIABLE.sub(" ", text)
    text = _MATCHERS.sub(" ", text)  # after strings: a "}" inside a label value is gone
    while _RANGE.search(text):  # innermost first: a subquery may hold a range
        text = _RANGE.sub(" ", text)
    text = _LABEL_LIST.sub(" ", text)
    text = _MODIFIER.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        word = match.group()
        if word.lower() in _KEYWORDS:
            continue
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function: rate(, histogram_quantile(, label_replace(, vector( ...
        names.add(word)
    return names


_IMPLIED = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
}


def exported_families(client: TestClient) -> dict[str, set[str]]:
    """Each metric family the app behind ``client`` exports on ``/metrics``, with the sample
    names it exports or, by its type, will export."""
    client.get("/health")  # one request, so that the labelled HTTP families have a sample
    sampled = {name for name, _labels in scrape(client)}
    families: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        implied = {family.name + suffix for suffix in _IMPLIED.get(family.type, ("",))}
        families[family.name] = implied | {s.name for s in family.samples}
    for name in sampled - set().union(*families.values()):
        families[name] = {name}
    return families


def exported_metric_names(client: TestClient) -> set[str]:
    """Every metric name the app behind ``client`` exports on ``/metrics``."""
    return set().union(*exported_families(client).values())


def unknown_names(used: set[str], exported: set[str]) -> set[str]:
    """The names in ``used`` that are neither exported nor allowed."""
    return {
        name
        for name in used
        if name not in exported
        and name not in ALLOWED_FOREIGN
        and not name.startswith(ALLOWED_PREFIXES)
    }
