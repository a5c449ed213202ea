"""helm-values/dagster.yaml with the official Dagster chart: rendered by helm (its values schema
checked offline), every object valid for Kubernetes, and the settings where they belong."""

from __future__ import annotations

from typing import Any

import pytest

from frameforge_core.connection_bounds import POSTGRES_PARAMETERS
from tests.deploy import tools
from tests.deploy.tools import NAMESPACE, Objects

USER_DEPLOYMENT = "dagster-dagster-user-deployments-frameforge"


def test_every_rendered_object_is_valid_kubernetes(render_dagster: Any) -> None:
    objects = render_dagster()
    kinds = sorted({item["kind"] for item in objects})
    assert kinds == [
        "ConfigMap", "Deployment", "Role", "RoleBinding", "Service", "ServiceAccount",
    ]  # fmt: skip
    assert tools.validate_strict(objects) == []


def test_the_values_schema_is_enforced_offline(render_dagster: Any) -> None:
    """The chart's schema (with the Kubernetes definitions made local) rejects a wrong value."""
    with pytest.raises(AssertionError, match=r"maxRetries: Invalid type"):
        render_dagster("dagsterDaemon.runRetries.maxRetries=twice")
    with pytest.raises(AssertionError, match=r"securityContext"):
        render_dagster("dagster-user-deployments.deployments[0].securityContext.capabilities=x")


def test_the_validator_finds_mistakes() -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    wrong_type = {**config_map, "data": {"a": 1}}  # a value that is not a string
    unknown_field = {**config_map, "dataa": {}}  # no such field (strict)
    assert tools.validate_strict([config_map]) == []
    for wrong in (wrong_type, unknown_field):
        assert len(tools.validate_strict([wrong])) == len(tools.KUBERNETES_VERSIONS)


def test_the_code_server_runs_our_module_from_our_image(
    dagster_objects: Objects, dagster_values: dict[str, Any]
) -> None:
    deployment = dagster_objects[("Deployment", USER_DEPLOYMENT)]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    image = dagster_values["dagster-user-deployments"]["deployments"][0]["image"]
    assert container["image"] == f"{image['repository']}:{image['tag']}"
    assert container["args"] == [
        "dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "3030",
        "-m", "frameforge_pipeline.definitions", "--log-format", "json",
    ]  # fmt: skip
    env = {item["name"]: item for item in container["env"]}
    # The code server tells Dagster which image its runs use.
    assert env["DAGSTER_CURRENT_IMAGE"]["value"] == container["image"]
    # Runs take their configuration from the run launcher alone.
    assert "DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT" not in env
    sources = [next(iter(source.values()))["name"] for source in container["envFrom"]]
    assert {"frameforge-env", "frameforge-secrets"} <= set(sources)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert {"/tmp", "/opt/dagster/dagster_home"} <= mounts
    assert container["resources"]["limits"]

    workspace = dagster_objects[("ConfigMap", "dagster-workspace-yaml")]["data"]["workspace.yaml"]
    assert "location_name: frameforge" in workspace
    assert "port: 3030" in workspace


def test_dagster_images_are_pinned_to_the_chart_version(dagster_objects: Objects) -> None:
    for name in ("dagster-daemon", "dagster-dagster-webserver"):
        (container,) = dagster_objects[("Deployment", name)]["spec"]["template"]["spec"][
            "containers"
        ]
        assert container["image"] == "docker.io/dagster/dagster-celery-k8s:1.13.27"
        assert container["resources"]["limits"]


def test_the_instance_uses_an_external_postgresql_through_psycopg2(
    dagster_instance_config: dict[str, Any],
) -> None:
    for section in ("run_storage", "event_log_storage", "schedule_storage"):
        database = dagster_instance_config[section]["config"]["postgres_db"]
        assert database["scheme"] == "postgresql+psycopg2"
        assert database["password"] == {"env": "DAGSTER_PG_PASSWORD"}
        assert database["hostname"] == "frameforge-db.example.internal"
        assert database["params"] == {"sslmode": "require", **POSTGRES_PARAMETERS}
    assert dagster_instance_config["telemetry"] == {"enabled": False}


def test_runs_are_queued_and_limited_globally_and_per_user(
    dagster_instance_config: dict[str, Any],
) -> None:
    coordinator = dagster_instance_config["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    assert coordinator["config"]["dequeue_use_threads"] is True
    assert "max_concurrent_runs" not in coordinator["config"]  # Dagster refuses it beside pools
    concurrency = dagster_instance_config["concurrency"]
    assert concurrency["runs"]["max_concurrent_runs"] == 10
    assert concurrency["runs"]["tag_concurrency_limits"] == [
        {"key": "frameforge/user_id", "value": {"applyLimitPerUniqueValue": True}, "limit": 2},
        {"key": "dagster/backfill", "limit": 4},
    ]
    assert concurrency["pools"] == {"default_limit": 1}


def test_crashed_runs_are_detected_and_retried_failed_ones_are_not(
    dagster_instance_config: dict[str, Any],
) -> None:
    monitoring = dagster_instance_config["run_monitoring"]
    assert monitoring["enabled"] is True
    assert monitoring["start_timeout_seconds"] == 600
    assert monitoring["max_resume_run_attempts"] == 0  # resuming needs the k8s_job_executor
    assert monitoring["max_runtime_seconds"] == 7200
    assert dagster_instance_config["run_retries"] == {
        "enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False,
    }  # fmt: skip
    assert dagster_instance_config["sensors"] == {"use_threads": True, "num_workers": 10}
    assert dagster_instance_config["schedules"] == {"use_threads": True, "num_workers": 2}


def test_run_pods_are_sized_within_the_processor_limit(
    dagster_instance_config: dict[str, Any],
) -> None:
    launcher = dagster_instance_config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    config = launcher["config"]
    assert config["job_namespace"] == NAMESPACE
    requests, limits = config["resources"]["requests"], config["resources"]["limits"]
    assert tools.quantity(limits["cpu"]) <= 2
    assert tools.quantity(limits["memory"]) <= 2 * 1024**3
    # extraction ~145 MB + the run worker process ~250 MB must fit in what is requested
    assert tools.quantity(requests["memory"]) >= 512 * 1024**2
    for resource in ("cpu", "memory", "ephemeral-storage"):
        assert tools.quantity(requests[resource]) <= tools.quantity(limits[resource])
    assert config["run_k8s_config"]["job_spec_config"]["ttlSecondsAfterFinished"] == 3600


def test_the_webserver_logs_json_lines(dagster_objects: Objects) -> None:
    """The chart's own logFormat value is not used by its 1.13.27 templates; dagster-webserver
    reads the option from its environment (DAGSTER_WEBSERVER_*)."""
    deployment = dagster_objects[("Deployment", "dagster-dagster-webserver")]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["DAGSTER_WEBSERVER_LOG_FORMAT"] == "json"


def test_a_daemon_that_stops_reporting_is_restarted_by_its_liveness_probe(
    dagster_objects: Objects,
) -> None:
    """The probe's command is run against a real instance in test_dagster_instance.py."""
    pod = dagster_objects[("Deployment", "dagster-daemon")]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for probe in ("livenessProbe", "startupProbe"):
        assert container[probe]["exec"]["command"] == ["dagster-daemon", "liveness-check"]
        assert container[probe]["timeoutSeconds"] >= 10  # the check loads Dagster, then reads
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["DAGSTER_DAEMON_HEARTBEAT_TOLERANCE"] == "90"  # + 30 s of interval: 120 s
    assert "readinessProbe" not in container
