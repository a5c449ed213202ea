"""The Dagster instance that the chart renders from helm-values/dagster.yaml, loaded by Dagster
itself: its storage against the real PostgreSQL on loopback, its run launcher building the
Kubernetes Job of a run (the Kubernetes API replaced by a mock, as dagster-k8s's own tests do)."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import dagster as dg
import psycopg
import pytest
import yaml
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.launcher import LaunchRunContext
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.test_utils import create_run_for_test
from dagster._utils.tags import TagConcurrencyLimitsCounter
from dagster_k8s import K8sRunLauncher
from kubernetes.client import ApiClient

from tests.deploy import tools
from tests.deploy.tools import NAMESPACE, Objects
from tests.integration.conftest import POSTGRES_ADMIN_URL, _new_database
from tests.pipeline.daemon_support import beat

USER_DEPLOYMENT = "dagster-dagster-user-deployments-frameforge"
# Where our image has Python (python:3.11-slim): the code server reports it for its runs.
IMAGE_PYTHON = "/usr/local/bin/python"


@pytest.fixture
def postgres_instance(
    render_dagster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    """The rendered instance, its server moved to the test's fresh database (everything else,
    the psycopg2 scheme included, as rendered), loaded from a DAGSTER_HOME of its own."""
    with _new_database() as database:
        server = psycopg.conninfo.conninfo_to_dict(POSTGRES_ADMIN_URL)
        objects = tools.by_kind(
            render_dagster(
                f"postgresql.postgresqlHost={server.get('host', '127.0.0.1')}",
                f"postgresql.service.port={server.get('port', 5432)}",
                f"postgresql.postgresqlUsername={server.get('user') or getpass.getuser()}",
                f"postgresql.postgresqlDatabase={database}",
                "postgresql.postgresqlParams.sslmode=disable",  # loopback, no TLS
            )
        )
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text(
            objects[("ConfigMap", "dagster-instance")]["data"]["dagster.yaml"]
        )
        # Referenced by the config (the Secret's value in the cluster); trust auth ignores it.
        monkeypatch.setenv("DAGSTER_PG_PASSWORD", "not-checked-on-loopback")
        instance = dg.DagsterInstance.from_config(str(home))
        try:
            yield instance
        finally:
            instance.dispose()


def test_the_rendered_instance_stores_runs_in_postgresql(
    postgres_instance: dg.DagsterInstance,
) -> None:
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    instance = postgres_instance
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert "postgresql+psycopg2://" in instance.run_storage.postgres_url  # type: ignore[attr-defined]

    tags = {"frameforge/user_id": "user-1", "frameforge/job_id": "job-1"}
    created = create_run_for_test(instance, job_name="extract_video", tags=tags)
    read = instance.get_run_by_id(created.run_id)
    assert read is not None
    assert (read.job_name, read.tags) == ("extract_video", tags)
    found = instance.get_runs(dg.RunsFilter(tags={"frameforge/job_id": "job-1"}))
    assert [run.run_id for run in found] == [created.run_id]


def test_the_rendered_run_queue_limits_each_user(postgres_instance: dg.DagsterInstance) -> None:
    """Dagster's own counter, with the rendered limits and two runs of one user in progress."""
    instance = postgres_instance
    queue = instance.get_concurrency_config().run_queue_config  # what the queue daemon reads
    assert queue is not None
    assert queue.max_concurrent_runs == 10

    def run(user: str, status: dg.DagsterRunStatus) -> dg.DagsterRun:
        return create_run_for_test(
            instance, job_name="extract_video", status=status, tags={"frameforge/user_id": user}
        )

    running = [run("busy-user", dg.DagsterRunStatus.STARTED) for _ in range(2)]
    counter = TagConcurrencyLimitsCounter(queue.tag_concurrency_limits, running)
    # the next runs in the queue (the counter looks only at their tags)
    assert counter.is_blocked(run("busy-user", dg.DagsterRunStatus.NOT_STARTED))
    assert not counter.is_blocked(run("other-user", dg.DagsterRunStatus.NOT_STARTED))


@pytest.fixture
def kubeconfig(tmp_path: Path) -> str:
    """A kubeconfig of a cluster that is never contacted (every call goes to the mock)."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "offline",
                "contexts": [{"name": "offline", "context": {"cluster": "offline"}}],
                "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [],
            }
        )
    )
    return str(path)


def launched_job(
    objects: Objects, config: dict[str, Any], kubeconfig: str, tags: dict[str, str]
) -> tuple[dict[str, Any], str, dg.DagsterRun]:
    """The Job body and namespace that dagster-k8s's K8sRunLauncher, configured as rendered,
    sends to Kubernetes for a run of ``extract_video`` from our code server."""
    launcher_config = dict(config["run_launcher"]["config"])
    assert launcher_config.pop("load_incluster_config") is True  # in the cluster; here a file
    batch_api = mock.MagicMock()
    launcher = K8sRunLauncher(
        **launcher_config,
        load_incluster_config=False,
        kubeconfig_file=kubeconfig,
        k8s_client_batch_api=batch_api,
    )
    # The origin our code server reports: its module, its Python, its image.
    (container,) = objects[("Deployment", USER_DEPLOYMENT)]["spec"]["template"]["spec"][
        "containers"
    ]
    image = next(e["value"] for e in container["env"] if e["name"] == "DAGSTER_CURRENT_IMAGE")
    origin = JobPythonOrigin(
        "extract_video",
        RepositoryPythonOrigin(
            executable_path=IMAGE_PYTHON,
            code_pointer=ModuleCodePointer("frameforge_pipeline.definitions", "defs"),
            container_image=image,
        ),
    )
    with dg.instance_for_test() as instance:
        run = create_run_for_test(
            instance, job_name="extract_video", tags=tags, job_code_origin=origin
        )
        launcher.register_instance(instance)
        launcher.launch_run(LaunchRunContext(run, workspace=None))
        assert instance.get_run_by_id(run.run_id).tags["dagster/image"] == image  # type: ignore[union-attr]
    ((name, _, call),) = batch_api.method_calls
    assert name == "create_namespaced_job"
    body: dict[str, Any] = ApiClient().sanitize_for_serialization(call["body"])
    return body, call["namespace"], run


def test_a_run_becomes_the_kubernetes_job_we_sized(
    dagster_objects: Objects, dagster_instance_config: dict[str, Any], kubeconfig: str
) -> None:
    tags = {"frameforge/user_id": "user-1", "frameforge/job_id": "job-1"}
    job, namespace, run = launched_job(dagster_objects, dagster_instance_config, kubeconfig, tags)
    assert namespace == NAMESPACE
    assert tools.validate_strict([job]) == []

    assert job["spec"]["ttlSecondsAfterFinished"] == 3600
    assert job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]
    for labels in (job["metadata"]["labels"], pod["metadata"]["labels"]):
        assert labels["app.kubernetes.io/part-of"] == "frameforge"
        assert labels["frameforge/component"] == "run"
        assert labels["dagster/job"] == "extract_video"
        assert labels["dagster/run-id"] == run.run_id

    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    # ours: may start its steps' Jobs (a long video's segments), nothing else
    assert spec["serviceAccountName"] == "frameforge-run"
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 10001
    (container,) = spec["containers"]
    assert container["image"] == "registry.example.com/frameforge/frameforge:0.1.0"
    assert "command" not in container  # the image's entrypoint (tini) runs the arguments
    assert container["args"][:5] == [IMAGE_PYTHON, "-m", "dagster", "api", "execute_run"]
    assert run.run_id in container["args"][5]
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "768Mi", "ephemeral-storage": "3Gi"},
        "limits": {"cpu": "2", "memory": "2Gi", "ephemeral-storage": "6Gi"},
    }
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}

    env = {item["name"]: item for item in container["env"]}
    assert env["DAGSTER_HOME"]["value"] == "/opt/dagster/dagster_home"
    assert env["DAGSTER_PG_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "dagster-postgresql-secret", "key": "postgresql-password",
    }  # fmt: skip
    assert container["envFrom"] == [
        {"configMapRef": {"name": "frameforge-env"}},
        {"secretRef": {"name": "frameforge-secrets"}},
    ]
    # Writable: /tmp (the source video) and Dagster's local storage; the rest is read-only.
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    for path in ("/tmp", "/opt/dagster/dagster_home"):
        assert "emptyDir" in volumes[mounts[path]], path
    assert tools.quantity(volumes[mounts["/tmp"]]["emptyDir"]["sizeLimit"]) <= tools.quantity(
        container["resources"]["limits"]["ephemeral-storage"]
    )


def test_the_run_job_names_our_real_job() -> None:
    """The job the Kubernetes Job runs is the code location's ``extract_video``."""
    from frameforge_pipeline.definitions import defs

    assert defs.resolve_job_def("extract_video").name == "extract_video"


def test_the_daemon_liveness_probe_fails_once_its_heartbeats_stop(
    postgres_instance: dg.DagsterInstance, dagster_objects: Objects
) -> None:
    """The rendered daemon's liveness probe, run as the kubelet runs it, against the instance:
    it passes while every daemon type reports and fails once one has been silent too long."""
    pod = dagster_objects[("Deployment", "dagster-daemon")]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    command = container["livenessProbe"]["exec"]["command"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    tolerance = env["DAGSTER_DAEMON_HEARTBEAT_TOLERANCE"]
    scripts = Path(sys.executable).parent
    probe_env = {
        **os.environ,
        "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}",
        "DAGSTER_HOME": str(postgres_instance.root_directory),
        "DAGSTER_DAEMON_HEARTBEAT_TOLERANCE": tolerance,
    }
    for seconds_ago, exit_code in ((5, 0), (30 + int(tolerance) + 30, 1)):
        beat(postgres_instance, seconds_ago=seconds_ago)
        probe = subprocess.run(
            command, env=probe_env, capture_output=True, text=True, timeout=120, check=False
        )
        assert probe.returncode == exit_code, (seconds_ago, probe.stdout, probe.stderr)
