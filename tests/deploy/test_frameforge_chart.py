"""Our chart (deploy/helm/frameforge): the API and the worker, valid for Kubernetes, secure by
default, and wired to the names the Dagster release uses."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest

from tests.deploy import tools
from tests.deploy.tools import DAGSTER_RELEASE, Objects

HOOK = "helm.sh/hook"


def containers(objects: Objects) -> list[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """(object name, pod spec, container) for every container the chart runs."""
    found = []
    for (kind, name), item in objects.items():
        if kind in ("Deployment", "Job"):
            pod = item["spec"]["template"]["spec"]
            found += [(name, pod, container) for container in pod["containers"]]
    return found


@pytest.mark.parametrize(
    "settings",
    [
        (),
        ("existingSecret=frameforge-operator-secrets", "api.workers=3"),
        ("secrets.JWT_SECRET=x", "api.autoscaling.enabled=false", "networkPolicy.enabled=false"),
        ("networkPolicy.apiFrom[0].namespaceSelector.matchLabels.team=ingress",),
    ],
    ids=["defaults", "existing-secret-and-workers", "no-hpa", "api-from"],
)
def test_every_rendered_object_is_valid_kubernetes(
    render_frameforge: Any, settings: tuple[str, ...]
) -> None:
    assert tools.validate_strict(render_frameforge(*settings)) == []


def test_the_api(frameforge_objects: Objects) -> None:
    deployment = frameforge_objects[("Deployment", "frameforge-api")]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert "replicas" not in deployment["spec"]  # the HPA decides
    assert container["args"] == [
        "uvicorn", "frameforge_api.main:app", "--host", "0.0.0.0", "--port", "8000",
        "--proxy-headers", "--forwarded-allow-ips", "10.0.0.0/16",
    ]  # fmt: skip
    assert "command" not in container  # the image's entrypoint (tini) stays
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "384Mi"},
        "limits": {"cpu": "500m", "memory": "768Mi"},
    }
    env = {item["name"]: item for item in container["env"]}
    assert env["DAGSTER_HOME"]["value"] == "/opt/dagster/dagster_home"
    assert env["DAGSTER_PG_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "dagster-postgresql-secret", "key": "postgresql-password",
    }  # fmt: skip
    assert "PROMETHEUS_MULTIPROC_DIR" not in env  # one uvicorn process
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["dagster-instance"]["configMap"]["name"] == f"{DAGSTER_RELEASE}-instance"
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    assert mounts["/opt/dagster/dagster_home/dagster.yaml"]["subPath"] == "dagster.yaml"
    assert volumes[mounts["/tmp"]["name"]]["emptyDir"]

    service = frameforge_objects[("Service", "frameforge-api")]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    hpa = frameforge_objects[("HorizontalPodAutoscaler", "frameforge-api")]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "frameforge-api"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    assert hpa["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        }
    ]
    pdb = frameforge_objects[("PodDisruptionBudget", "frameforge-api")]
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]


def test_several_uvicorn_workers_share_a_metrics_dir(render_frameforge: Any) -> None:
    objects = tools.by_kind(render_frameforge("api.workers=3"))
    pod = objects[("Deployment", "frameforge-api")]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][-2:] == ["--workers", "3"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    volume = next(v for v in pod["volumes"] if v["name"] == mounts[env["PROMETHEUS_MULTIPROC_DIR"]])
    assert "emptyDir" in volume  # empty at every start, as prometheus_client needs


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (
            "api.forwardedAllowIps=10.1.2.0/24\\,10.1.3.7",
            ["--proxy-headers", "--forwarded-allow-ips", "10.1.2.0/24,10.1.3.7"],
        ),
        ("api.forwardedAllowIps=*", ["--proxy-headers", "--forwarded-allow-ips", "*"]),
        ("api.forwardedAllowIps=", ["--no-proxy-headers"]),
    ],
    ids=["cidrs", "any", "none"],
)
def test_the_api_trusts_forwarded_headers_from_the_values_only(
    render_frameforge: Any, setting: str, expected: list[str]
) -> None:
    """Behind an ingress the client's address comes from X-Forwarded-For, sent by the
    addresses in api.forwardedAllowIps only; what uvicorn makes of the same value is
    tests/api/core/test_client_address.py's."""
    rendered = render_frameforge(setting)
    assert tools.validate_strict(rendered) == []
    pod = tools.by_kind(rendered)[("Deployment", "frameforge-api")]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][6:] == expected


def test_the_worker(frameforge_objects: Objects) -> None:
    deployment = frameforge_objects[("Deployment", "frameforge-worker")]
    assert deployment["spec"]["replicas"] == 2
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["frameforge", "worker"]
    # an identity without Kubernetes permissions (its token is for IRSA)
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "frameforge"
    assert frameforge_objects[("PodDisruptionBudget", "frameforge-worker")]["spec"]


def test_migrations_run_once_before_the_services(frameforge_objects: Objects) -> None:
    job = frameforge_objects[("Job", "frameforge-migrations")]
    annotations = job["metadata"]["annotations"]
    assert annotations[HOOK] == "pre-install,pre-upgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["frameforge", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # What the Job reads exists before it: hooks of a lower weight (Helm creates a release's
    # ordinary objects only after its pre-install hooks).
    for kind, name in (("ConfigMap", "frameforge-env"), ("Secret", "frameforge-secrets")):
        theirs = frameforge_objects[(kind, name)]["metadata"]["annotations"]
        assert theirs[HOOK] == annotations[HOOK]
        assert int(theirs["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])
    assert "serviceAccountName" not in job["spec"]["template"]["spec"]  # not created yet then


def test_every_container_is_locked_down(frameforge_objects: Objects) -> None:
    found = containers(frameforge_objects)
    assert {name for name, _, _ in found} == {
        "frameforge-api", "frameforge-worker", "frameforge-migrations",
    }  # fmt: skip
    for name, pod, container in found:
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == 10001, name
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["capabilities"]["drop"] == ["ALL"], name
        tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
        volume = next(v for v in pod["volumes"] if v["name"] == tmp["name"])
        assert "emptyDir" in volume, name
        assert container["resources"]["requests"], name
        assert container["resources"]["limits"], name
        sources = [next(iter(source.values()))["name"] for source in container["envFrom"]]
        assert sources == ["frameforge-env", "frameforge-secrets"], name


def test_the_chart_holds_no_secret(frameforge_objects: Objects, render_frameforge: Any) -> None:
    secret = frameforge_objects[("Secret", "frameforge-secrets")]
    # nothing given, nothing written
    assert "data" not in secret
    assert "stringData" not in secret

    given = tools.by_kind(
        render_frameforge("secrets.JWT_SECRET=from-the-command-line", "secrets.REDIS_URL=r")
    )[("Secret", "frameforge-secrets")]
    assert given["stringData"] == {"JWT_SECRET": "from-the-command-line", "REDIS_URL": "r"}

    objects = tools.by_kind(render_frameforge("existingSecret=made-by-the-operator"))
    assert not [key for key in objects if key[0] == "Secret"]
    for name, _, container in containers(objects):
        refs = [s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s]
        assert refs == ["made-by-the-operator"], name

    config = frameforge_objects[("ConfigMap", "frameforge-env")]["data"]
    assert config["FRAMEFORGE_ENV"] == "production"
    assert "FRAMEFORGE_S3_ENDPOINT_URL" not in config  # empty: left out: AWS's endpoint
    for key, value in config.items():  # no credentials slipped into the ConfigMap
        assert not any(word in key for word in ("SECRET", "PASSWORD", "TOKEN")), key
        assert not re.search(r"://[^/@]*:[^/@]*@", value), key  # no user:password@host URL


def test_network_policies(frameforge_objects: Objects) -> None:
    api = frameforge_objects[("NetworkPolicy", "frameforge-api")]["spec"]
    assert api["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"
    assert api["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
    closed = frameforge_objects[("NetworkPolicy", "frameforge-no-ingress")]["spec"]
    assert closed["policyTypes"] == ["Ingress"]
    assert "ingress" not in closed  # nothing comes in
    components = next(
        e["values"] for e in closed["podSelector"]["matchExpressions"]
        if e["key"] == "app.kubernetes.io/component"
    )  # fmt: skip
    assert sorted(components) == ["migrations", "worker"]


def test_the_api_may_cancel_runs_and_nothing_more(frameforge_objects: Objects) -> None:
    role = frameforge_objects[("Role", "frameforge-cancel-runs")]
    assert {
        (rule["apiGroups"][0], resource) for rule in role["rules"] for resource in rule["resources"]
    } == {("batch", "jobs"), ("", "pods")}
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= {"get", "list", "delete"}
    binding = frameforge_objects[("RoleBinding", "frameforge-cancel-runs")]
    (subject,) = binding["subjects"]
    assert subject["name"] == "frameforge-api"
    api = frameforge_objects[("Deployment", "frameforge-api")]["spec"]["template"]["spec"]
    assert api["serviceAccountName"] == "frameforge-api"
    # the worker's and the step pods' account is bound to nothing; the run pods' to their Role
    assert ("ServiceAccount", "frameforge") in frameforge_objects
    bound = [s["name"] for (kind, _), b in frameforge_objects.items() if kind == "RoleBinding"
             for s in b["subjects"]]  # fmt: skip
    assert sorted(bound) == ["frameforge-api", "frameforge-run"]


def test_run_pods_may_start_their_step_jobs_and_nothing_more(frameforge_objects: Objects) -> None:
    """A long video's run pod starts, watches and deletes its segments' Jobs (the
    k8s_job_executor); its step pods run as the account without any permission."""
    role = frameforge_objects[("Role", "frameforge-run-steps")]
    granted = {
        (rule["apiGroups"][0], resource, verb)
        for rule in role["rules"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert granted == {
        *(("batch", "jobs", verb) for verb in ("create", "get", "list", "watch", "delete")),
        ("batch", "jobs/status", "get"),
        *(("", "pods", verb) for verb in ("get", "list", "watch", "delete")),
        ("", "pods/log", "get"),
    }
    (subject,) = frameforge_objects[("RoleBinding", "frameforge-run-steps")]["subjects"]
    assert subject["name"] == "frameforge-run"
    assert ("ServiceAccount", "frameforge-run") in frameforge_objects
    config = frameforge_objects[("ConfigMap", "frameforge-env")]["data"]
    assert config["FRAMEFORGE_STEP_SERVICE_ACCOUNT"] == "frameforge"


def test_both_charts_agree_on_names(
    frameforge_objects: Objects,
    dagster_objects: Objects,
    dagster_values: dict[str, Any],
    frameforge_values: dict[str, Any],
    dagster_instance_config: dict[str, Any],
) -> None:
    """The Dagster release reads our ConfigMap and Secret, our API reads its instance, and both
    run the same image."""
    ours = {name for kind, name in frameforge_objects if kind in ("ConfigMap", "Secret")}
    launcher = dagster_instance_config["run_launcher"]["config"]
    assert set(launcher["env_config_maps"]) | set(launcher["env_secrets"]) <= ours
    (deployment,) = dagster_values["dagster-user-deployments"]["deployments"]
    sources = {s["name"] for s in deployment["envConfigMaps"] + deployment["envSecrets"]}
    assert sources <= ours

    assert ("ConfigMap", frameforge_values["dagster"]["instanceConfigMap"]) in dagster_objects
    assert frameforge_values["dagster"]["postgresqlSecret"] == launcher["postgres_password_secret"]
    assert frameforge_values["dagster"]["home"] == launcher["dagster_home"]
    assert frameforge_values["image"]["repository"] == deployment["image"]["repository"]
    run_pods = launcher["run_k8s_config"]["pod_spec_config"]
    assert ("ServiceAccount", run_pods["serviceAccountName"]) in frameforge_objects
    # The release namespace, where both the runs and the API's RBAC are.
    assert launcher["job_namespace"] == tools.NAMESPACE
    assert (
        frameforge_objects[("Role", "frameforge-cancel-runs")]["metadata"]["namespace"]
        == (launcher["job_namespace"])
    )


def test_helm_lint_finds_nothing(helm: str, helm_home: Any) -> None:
    done = subprocess.run(
        [helm, "lint", "--strict", str(tools.FRAMEFORGE_CHART)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "HELM_CACHE_HOME": str(helm_home / "cache"),
             "HELM_CONFIG_HOME": str(helm_home / "config")},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[WARNING]" not in done.stdout
    assert "[ERROR]" not in done.stdout


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("api.wokers=2", "Additional property wokers is not allowed"),
        ("config.JWT_SECRET=in-the-configmap", "config: Must not validate the schema"),
        ("api.workers=0", "api.workers: Must be greater than or equal to 1"),
        ("api.forwardedAllowIps=ingress-nginx", "api.forwardedAllowIps: Does not match pattern"),
    ],
)
def test_the_values_schema_refuses(render_frameforge: Any, setting: str, message: str) -> None:
    """A typo, a secret in the ConfigMap, a nonsense number: refused before anything renders."""
    with pytest.raises(AssertionError, match=re.escape(message)):
        render_frameforge(setting)


def test_a_former_name_beside_its_name_now_is_refused(render_frameforge: Any) -> None:
    """A values file from before the FRAMEFORGE_ names (``config.SMTP_HOST``) merged with the
    chart's defaults (``config.FRAMEFORGE_SMTP_HOST``) would give one setting two values, the
    chart's winning: refused, naming both. Alone, a former name still reaches the pods (they
    read it, and say so once at start)."""
    with pytest.raises(AssertionError, match=r"SMTP_HOST and FRAMEFORGE_SMTP_HOST name one"):
        render_frameforge("config.SMTP_HOST=mail.corp.example")
    with pytest.raises(AssertionError, match=r"SMTP_PASSWORD and FRAMEFORGE_SMTP_PASSWORD"):
        render_frameforge("secrets.SMTP_PASSWORD=pw", "secrets.FRAMEFORGE_SMTP_PASSWORD=pw")
    objects = tools.by_kind(
        render_frameforge("config.SMTP_PORT=2525", "config.FRAMEFORGE_SMTP_PORT=")
    )
    assert objects[("ConfigMap", "frameforge-env")]["data"]["SMTP_PORT"] == "2525"
