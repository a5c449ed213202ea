"""A long video's segment becomes a Kubernetes Job built by dagster-k8s itself: the run config
the job sensor gives a long video where runs are pods (the k8s_job_executor, through our
executor), the instance's run launcher as helm-values/dagster.yaml renders it, our code
location's real job, and dagster-k8s's K8sStepHandler with the Kubernetes API replaced by a
mock (as dagster-k8s's own tests do, and as tests/deploy/test_dagster_instance.py builds a
run's Job)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.execution.api import create_execution_plan
from dagster._core.execution.context.system import PlanData, PlanOrchestrationContext
from dagster._core.execution.context_creation_job import create_context_free_log_manager
from dagster._core.execution.plan.state import KnownExecutionState
from dagster._core.execution.retries import RetryMode
from dagster._core.executor.init import InitExecutorContext
from dagster._core.executor.step_delegating.step_handler.base import StepHandlerContext
from dagster._core.test_utils import create_run_for_test
from dagster._grpc.types import ExecuteStepArgs
from kubernetes.client import ApiClient

from frameforge_pipeline.dagster_internals import processed_config
from frameforge_pipeline.executor import step_executor
from frameforge_pipeline.loggers import RUN_LOGGERS
from frameforge_pipeline.segmenting import SegmentPolicy
from tests.deploy import tools
from tests.deploy.tools import NAMESPACE, Objects

RUN_POD = "dagster-run-7f1c"  # the run pod's name: the owner of its step Jobs
RUN_POD_UID = "0a1b2c3d-0000-4000-8000-000000000001"
SEGMENT = "frames.extract_segment[00001]"


@pytest.fixture
def kubeconfig(tmp_path: Path) -> str:
    """A cluster never contacted, whose context names the run's namespace (where a run pod
    finds itself, to own its step Jobs)."""
    path = tmp_path / "kubeconfig"
    context = {"cluster": "offline", "namespace": NAMESPACE}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "offline",
                "contexts": [{"name": "offline", "context": context}],
                "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [],
            }
        )
    )
    return str(path)


def step_job(
    objects: Objects, config: dict[str, Any], kubeconfig: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], str]:
    """The Job body and namespace our run sends Kubernetes for segment 1 of a long video."""
    launcher = dict(config["run_launcher"]["config"])
    assert launcher.pop("load_incluster_config") is True  # in the cluster; here a file
    launcher |= {"load_incluster_config": False, "kubeconfig_file": kubeconfig}
    monkeypatch.setenv("HOSTNAME", RUN_POD)  # the run pod, as Kubernetes names it
    (deployment,) = [
        o
        for (kind, name), o in objects.items()
        if kind == "Deployment" and "user-deployments" in name
    ]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    image = next(e["value"] for e in container["env"] if e["name"] == "DAGSTER_CURRENT_IMAGE")
    # the step account as our chart's ConfigMap sets it
    policy = SegmentPolicy(300, 16, step_service_account="frameforge")
    run_config = {**RUN_LOGGERS, "execution": policy.execution(7200, on_kubernetes=True)}

    job = ReconstructableRepository.for_module(
        "frameforge_pipeline.definitions", "defs"
    ).get_reconstructable_job("extract_video")
    origin = job.get_python_origin()
    origin = origin._replace(
        repository_origin=origin.repository_origin._replace(container_image=image)
    )
    overrides = {
        "run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": launcher}
    }
    with dg.instance_for_test(overrides=overrides) as instance:
        run = create_run_for_test(
            instance, job_name="extract_video", run_config=run_config, job_code_origin=origin,
            tags={"dagster/partition": "vid-long"},
        )  # fmt: skip
        checked = processed_config(step_executor, run_config["execution"]["config"])
        executor = step_executor.executor_creation_fn(  # type: ignore[misc]
            InitExecutorContext(job, step_executor, checked, instance)
        )
        handler = executor._step_handler
        batch_api, core_api = mock.MagicMock(), mock.MagicMock()
        core_api.read_namespaced_pod.return_value.metadata.name = RUN_POD
        core_api.read_namespaced_pod.return_value.metadata.uid = RUN_POD_UID
        handler._api_client.batch_api = batch_api
        handler._api_client.core_api = core_api

        # the plan once plan_frames has yielded its segments
        known = KnownExecutionState(
            dynamic_mappings={"frames.plan_frames": {"result": ["00000", "00001", "00002"]}}
        )
        plan = create_execution_plan(job, run_config=run_config, known_state=known)
        context = PlanOrchestrationContext(
            plan_data=PlanData(
                job=job, dagster_run=run, instance=instance, execution_plan=plan,
                raise_on_error=True, retry_mode=RetryMode.DISABLED,
            ),
            log_manager=create_context_free_log_manager(instance, run),
            executor=executor,
            output_capture=None,
        )  # fmt: skip
        arguments = ExecuteStepArgs(origin, run.run_id, [SEGMENT], known_state=known)
        events = list(
            handler.launch_step(StepHandlerContext(instance, context, plan.steps, arguments))
        )
    assert "Executing step" in events[0].message
    ((_, _, call),) = [c for c in batch_api.method_calls if c[0] == "create_namespaced_job"]
    body: dict[str, Any] = ApiClient().sanitize_for_serialization(call["body"])
    return body, call["namespace"]


def test_a_segment_becomes_a_kubernetes_job_of_its_own(
    dagster_objects: Objects,
    dagster_instance_config: dict[str, Any],
    kubeconfig: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job, namespace = step_job(dagster_objects, dagster_instance_config, kubeconfig, monkeypatch)
    assert namespace == NAMESPACE
    assert tools.validate_strict([job]) == []

    # owned by the run's pod: deleting it (a cancel, its TTL) deletes the segment's Job
    assert job["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": RUN_POD, "uid": RUN_POD_UID}
    ]
    assert job["spec"]["backoffLimit"] == 0  # a failed segment: Dagster decides, not Kubernetes
    assert job["spec"]["ttlSecondsAfterFinished"] == 3600
    pod = job["spec"]["template"]
    for labels in (job["metadata"]["labels"], pod["metadata"]["labels"]):
        assert labels["app.kubernetes.io/part-of"] == "frameforge"
        assert labels["dagster/op"] == "frames.extract_segment-00001"  # as a label may spell it
    spec = pod["spec"]
    assert spec["serviceAccountName"] == "frameforge"  # no Kubernetes permission
    assert spec["securityContext"]["runAsNonRoot"] is True
    (container,) = spec["containers"]
    assert container["image"] == "registry.example.com/frameforge/frameforge:0.1.0"
    # the image's `dagster` entry point (on its PATH) runs the one step
    assert container["args"][:3] == ["dagster", "api", "execute_step"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["DAGSTER_RUN_STEP_KEY"] == SEGMENT
    # sized, mounted and locked down as the run's own pod (helm-values/dagster.yaml)
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "768Mi", "ephemeral-storage": "3Gi"},
        "limits": {"cpu": "2", "memory": "2Gi", "ephemeral-storage": "6Gi"},
    }
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["envFrom"] == [
        {"configMapRef": {"name": "frameforge-env"}},
        {"secretRef": {"name": "frameforge-secrets"}},
    ]
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert {"/tmp", "/opt/dagster/dagster_home"} <= mounts
