"""deploy/prometheus/: promtool checks the config and the rules and runs the rules' unit
tests; every metric an alert uses is exported by the code (or allowed, see promql.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from frameforge_core import messaging
from tests.api.conftest import client, settings  # noqa: F401  (fixtures: the API under test)
from tests.deploy.promql import exported_metric_names, metric_names, unknown_names
from tests.deploy.tools import REPO, find_tool

PROMETHEUS = REPO / "deploy" / "prometheus"
CONFIG = PROMETHEUS / "prometheus.yml"
ALERTS = PROMETHEUS / "alerts.yml"
ALERTS_TEST = PROMETHEUS / "alerts_test.yml"


def promtool(*args: str | Path) -> str:
    tool = find_tool("promtool")  # Debian's prometheus: scripts/install-test-packages-apt.sh
    done = subprocess.run(
        [tool, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=PROMETHEUS
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def alert(name: str) -> dict[str, Any]:
    (found,) = [rule for rule in rules() if rule.get("alert") == name]
    return found


def test_promtool_checks_the_config(tmp_path):
    """As compose mounts it: the alert rules beside it, the metrics token as a secret file."""
    token = tmp_path / "metrics_token"
    token.write_text("a-token\n")
    config = tmp_path / CONFIG.name
    config.write_text(CONFIG.read_text().replace("/run/secrets/metrics_token", str(token)))
    shutil.copy(ALERTS, tmp_path / ALERTS.name)
    assert "SUCCESS" in promtool("check", "config", config)


def test_promtool_checks_the_rules():
    assert "SUCCESS" in promtool("check", "rules", ALERTS)


def test_promtool_runs_the_alert_unit_tests():
    assert "SUCCESS" in promtool("test", "rules", ALERTS_TEST)


def test_every_alert_has_a_firing_and_a_quiet_case():
    cases: dict[str, set[bool]] = {}
    for test in yaml.safe_load(ALERTS_TEST.read_text())["tests"]:
        for case in test.get("alert_rule_test", []):
            cases.setdefault(case["alertname"], set()).add(bool(case.get("exp_alerts")))
    for rule in rules():
        assert cases.get(rule["alert"]) == {True, False}, rule["alert"]


def test_the_seed_alerts_keep_their_numbers():
    assert alert("HighLatency")["for"] == "5m"
    assert "histogram_quantile(0.99" in alert("HighLatency")["expr"]
    assert re.search(r"\)\s*>\s*2\s*$", alert("HighLatency")["expr"])
    assert alert("HighErrorRate")["for"] == "5m"
    assert re.search(r">\s*0\.05\s*$", alert("HighErrorRate")["expr"])
    assert alert("HighErrorRate")["labels"]["severity"] == "critical"
    assert alert("LargeQueue")["for"] == "10m"
    assert re.search(r">\s*100\s*$", alert("LargeQueue")["expr"])
    assert alert("MemoryLeak")["for"] == "1h"
    assert re.search(r"\[1h\]\)\s*\*\s*3600\s*>\s*100e6\s*$", alert("MemoryLeak")["expr"])
    for rule in rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert {"summary", "description"} <= rule["annotations"].keys()


def _queue_pattern(expr: str) -> re.Pattern[str]:
    """The queue=~"..." matcher of an expression, as the regex Prometheus applies."""
    (literal,) = re.findall(r'queue=~"((?:[^"\\]|\\.)*)"', expr)
    return re.compile(literal.encode().decode("unicode_escape"))  # PromQL's \\ is \


def test_queue_alerts_select_the_queues_the_code_declares():
    work = _queue_pattern(alert("LargeQueue")["expr"])
    dead = _queue_pattern(alert("DeadLetterQueueNotEmpty")["expr"])
    queues = {messaging.JOBS_QUEUE, messaging.NOTIFICATIONS_QUEUE}
    dead_letters = {messaging.JOBS_DLQ, messaging.NOTIFICATIONS_DLQ}
    assert {q for q in queues | dead_letters if work.fullmatch(q)} == queues
    assert {q for q in queues | dead_letters if dead.fullmatch(q)} == dead_letters


def test_scrape_jobs_match_the_compose_services_and_the_rules():
    config = yaml.safe_load(CONFIG.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"prometheus", "frameforge-api", "rabbitmq"}
    assert jobs["frameforge-api"]["metrics_path"] == "/metrics"
    assert jobs["frameforge-api"]["static_configs"][0]["targets"] == ["api:8000"]
    assert jobs["rabbitmq"]["metrics_path"] == "/metrics/per-object"  # one series per queue
    assert jobs["rabbitmq"]["static_configs"][0]["targets"] == ["rabbitmq:15692"]
    services = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    assert {"api", "rabbitmq", "prometheus"} <= services.keys()
    for rule in rules():
        for job in re.findall(r'job=~?"([^"]+)"', rule["expr"]):
            assert set(job.split("|")) <= set(jobs), (rule["alert"], job)


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (le) (rate(x_bucket{path!~"/a/{id}", job="j"}[5m]))', {"x_bucket"}),
        ("histogram_quantile(0.99, sum(rate(a[5m])) by (le)) > 2", {"a"}),
        ("max(min_over_time(q[15m])) > 0 and on () max(delta(v[15m:1m])) <= 0", {"q", "v"}),
        ("a / ignoring (status) group_left (path) b offset 1h", {"a", "b"}),
        ('count(ALERTS{alertstate="firing"}) or vector(0)', {"ALERTS"}),
        ("rate(c_total[$__rate_interval]) * 60 + d @ end() - 1e6", {"c_total", "d"}),
        ('label_replace(up, "dst", "$1", "src", "(.*)") unless without (a) e', {"up", "e"}),
        (
            "deriv(process_resident_memory_bytes[1h]) * 3600 > 100e6",
            {"process_resident_memory_bytes"},
        ),
        ('{__name__="only_a_matcher"}', set()),
    ],
)
def test_the_tokenizer_finds_metric_names(expr, names):
    assert metric_names(expr) == names


def test_every_metric_an_alert_uses_is_exported(client):  # noqa: F811
    exported = exported_metric_names(client)
    assert {"http_requests_total", "queue_depth", "video_processing_total"} <= exported
    for rule in rules():
        used = metric_names(rule["expr"])
        assert used, rule["alert"]
        assert not unknown_names(used, exported), (rule["alert"], unknown_names(used, exported))
