"""deploy/grafana/: the seed's five dashboards and their provisioning. Every panel's PromQL
parses (promtool, as recording rules) and uses only metrics the code exports (scraped from
an app built by the API tests' fixtures) or the allowed foreign ones (promql.py)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.api.conftest import client, settings  # noqa: F401  (fixtures: the API under test)
from tests.deploy.promql import (
    ALLOWED_PREFIXES,
    exported_families,
    exported_metric_names,
    metric_names,
    unknown_names,
)
from tests.deploy.tools import REPO, find_tool

GRAFANA = REPO / "deploy" / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
PROVISIONING = GRAFANA / "provisioning"

# The seed's dashboards (section 7.2) and metrics each one must show.
SEED_DASHBOARDS = {
    "system-overview.json": ("frameforge-overview", {"http_requests_total", "queue_depth"}),
    "auth.json": (
        "frameforge-auth",
        {"auth_login_attempts_total", "auth_registration_attempts_total"},
    ),
    "api.json": (
        "frameforge-api",
        {
            "http_requests_total",
            "cache_hits_total",
            "cache_misses_total",
            "rate_limit_exceeded_total",
        },
    ),
    "processing.json": (
        "frameforge-processing",
        {"queue_depth", "video_processing_total", "video_processing_duration_seconds_bucket"},
    ),
    "notifications.json": (
        "frameforge-notifications",
        {"notification_delivery_total", "notification_retry_attempts_total"},
    ),
}
# Grafana's variables, replaced by a duration for promtool.
GRAFANA_DURATIONS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return found


def expressions() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, expr) of every query."""
    return [
        (name, panel["title"], target["expr"])
        for name, dashboard in dashboards().items()
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]


def compose_mounts(service: str) -> dict[str, str]:
    """Host path (relative to the repository) -> container path of a compose service."""
    volumes = yaml.safe_load((REPO / "compose.yaml").read_text())["services"][service]["volumes"]
    mounts = {}
    for volume in volumes:
        source, target = volume.split(":")[:2]
        mounts[source.removeprefix("./")] = target
    return mounts


def test_the_seed_dashboards_are_there():
    found = dashboards()
    assert set(found) == set(SEED_DASHBOARDS)
    uids = [dashboard["uid"] for dashboard in found.values()]
    assert len(set(uids)) == len(uids)
    for name, (uid, _metrics) in SEED_DASHBOARDS.items():
        assert found[name]["uid"] == uid
        assert found[name]["title"].startswith("FrameForge · ")


@pytest.mark.parametrize("name", sorted(SEED_DASHBOARDS))
def test_a_dashboard_is_well_formed_and_shows_its_metrics(name):
    dashboard = dashboards()[name]
    datasource = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    (source,) = datasource["datasources"]
    assert isinstance(dashboard["schemaVersion"], int)
    assert dashboard["templating"] == {"list": []}  # nothing a provisioned copy must resolve
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(set(ids)) == len(ids)
    used: set[str] = set()
    for panel in panels(dashboard):
        assert panel["type"] in {"timeseries", "stat", "gauge", "table", "bargauge", "row"}
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        assert grid["h"] > 0, panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert ref_ids, panel["title"]
        assert len(set(ref_ids)) == len(ref_ids), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"]
            assert target["expr"].strip(), panel["title"]
            used |= metric_names(target["expr"])
    assert SEED_DASHBOARDS[name][1] <= used


def test_every_dashboard_query_parses(tmp_path: Path):
    """promtool has no "check expression": each query becomes a recording rule."""
    rules = []
    for number, (name, title, expr) in enumerate(expressions()):
        for variable, duration in GRAFANA_DURATIONS.items():
            expr = expr.replace(variable, duration)
        assert "$" not in expr, (name, title, expr)
        rules.append({"record": f"dashboard:query_{number}:check", "expr": expr})
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    done = subprocess.run(
        [find_tool("promtool"), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout


def test_every_metric_a_panel_uses_is_exported(client):  # noqa: F811
    exported = exported_metric_names(client)
    for name, title, expr in expressions():
        used = metric_names(expr)
        assert used, (name, title, expr)
        assert not unknown_names(used, exported), (name, title, unknown_names(used, exported))


def test_every_frameforge_metric_is_on_a_dashboard(client):  # noqa: F811
    used = set().union(*(metric_names(expr) for _name, _title, expr in expressions()))
    for family, names in exported_families(client).items():
        if family.startswith((*ALLOWED_PREFIXES, "python_")):
            continue  # the client library's own, not FrameForge's
        if family.endswith("_created"):
            continue  # the creation time of a counter or histogram, exported as a gauge
        assert names & used, f"{family} is exported but on no dashboard"


def test_provisioning_matches_the_compose_mounts():
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    assert datasources["apiVersion"] == 1
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus"
    assert source["access"] == "proxy"
    assert source["isDefault"] is True
    services = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    host, port = re.fullmatch(r"http://([\w-]+):(\d+)", source["url"]).groups()
    assert host in services
    assert port == "9090"  # prometheus' port inside the network

    providers = yaml.safe_load((PROVISIONING / "dashboards" / "frameforge.yml").read_text())
    assert providers["apiVersion"] == 1
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    mounts = compose_mounts("grafana")
    assert mounts["deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["deploy/grafana/dashboards"] == provider["options"]["path"]
