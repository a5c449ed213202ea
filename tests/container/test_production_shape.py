"""The production shape in containers: the API, the Dagster webserver, daemon and code server
and the worker as separate containers of the one image (the migrations first), with the chart's
security settings (read-only root filesystem, no capability, no-new-privileges, uid 10001,
writable /tmp and Dagster's dirs only), against the machine's PostgreSQL, RabbitMQ and Redis
and an S3 and an SMTP server on the host. One video goes through the API to its ZIP and its
email; then every line every container wrote is JSON and none holds a signed link's
signature, and every container stops within the engine's grace period with exit code 0.

Host networking: each process listens on a free port of the host (the API on one other than
8000, which its HEALTHCHECK must find by itself) and reaches the servers on 127.0.0.1. The
Dagster instance and workspace are the compose stack's (deploy/compose/), the workspace
pointed at the code server's port here.
"""

from __future__ import annotations

import contextlib
import getpass
import io
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import httpx2
import pytest
import redis
import yaml

from frameforge.demo import _free_port
from frameforge_api.services import verification
from frameforge_pipeline.engine.archive import zip_problems
from tests.container import podman
from tests.e2e.test_embedded_stack import get_job
from tests.integration.conftest import require

COMPOSE = podman.REPO / "deploy" / "compose"
REDIS_URL = "redis://127.0.0.1:6379/13"
JOB_TIMEOUT = 300
READY_TIMEOUT = 240
STOP_TIMEOUT = 10  # docker's and podman's default grace before they kill


@dataclass
class Stack:
    """The containers of one test, by role, and what they listen on."""

    image: str
    home: Path
    env: dict[str, str]
    prefix: str = field(default_factory=lambda: f"ff-{uuid.uuid4().hex[:8]}")
    ports: dict[str, int] = field(
        default_factory=lambda: {role: _free_port() for role in ("api", "webserver", "code")}
    )
    started: list[str] = field(default_factory=list)

    def name(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def _mounts(self, role: str) -> list[str]:
        """Dagster's instance dir (its own per container, the compose stack's dagster.yaml
        in it) and the storage the Dagster processes share (compute logs, artifacts)."""
        dagster_home = self.home / role / "dagster_home"
        dagster_home.mkdir(parents=True)
        for writable in (dagster_home, self.home / "storage"):
            writable.mkdir(exist_ok=True)
            writable.chmod(0o777)
        return [
            "-v", f"{dagster_home}:/opt/dagster/dagster_home",
            "-v", f"{COMPOSE / 'dagster.yaml'}:/opt/dagster/dagster_home/dagster.yaml:ro",
            "-v", f"{self.home / 'storage'}:/opt/dagster/storage",
            "-v", f"{self.home / 'workspace.yaml'}:/opt/dagster/workspace.yaml:ro",
        ]  # fmt: skip

    def _options(self, role: str) -> list[str]:
        environment = [
            item for name, value in self.env.items() for item in ("-e", f"{name}={value}")
        ]
        return [*podman.SECURE, "--network", "host", *environment, *self._mounts(role)]

    def once(self, role: str, *command: str) -> None:
        done = podman.podman("run", "--name", self.name(role), "--no-healthcheck",
                             *self._options(role), self.image, *command, check=False)  # fmt: skip
        self.started.append(self.name(role))
        assert done.returncode == 0, f"{role}: {done.stdout}{done.stderr}"

    def start(self, role: str, *command: str) -> None:
        # the image's HEALTHCHECK is the API's (compose disables it for the other roles)
        check = [] if role == "api" else ["--no-healthcheck"]
        podman.podman("run", "--detach", "--name", self.name(role), *check,
                      *self._options(role), self.image, *command)  # fmt: skip
        self.started.append(self.name(role))

    def logs(self) -> dict[str, list[str]]:
        return {
            name: podman.podman("logs", name).stdout.splitlines()
            + podman.podman("logs", name).stderr.splitlines()
            for name in self.started
        }

    def remove(self) -> None:
        for name in self.started:
            podman.podman("rm", "--force", "--time", "0", name, check=False)


@pytest.fixture
def stack(image, tmp_path, postgres_url, dagster_pg_url, rabbitmq_url, moto_endpoint, smtp_server):
    require("127.0.0.1", 6379, "Redis")
    redis.Redis.from_url(REDIS_URL).flushdb()
    suffix = uuid.uuid4().hex[:10]
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    for bucket in (f"uploads-{suffix}", f"results-{suffix}"):
        s3.create_bucket(Bucket=bucket)
    user = getpass.getuser()  # the database role of these tests (trust authentication)
    home = tmp_path / "containers"
    stack = Stack(image, home, {})
    stack.env = {
        "FRAMEFORGE_ENV": "production",
        "FRAMEFORGE_HOME": "/tmp/frameforge",
        "FRAMEFORGE_PUBLIC_URL": f"http://127.0.0.1:{stack.ports['api']}",
        "FRAMEFORGE_METRICS_TOKEN": uuid.uuid4().hex,
        "JWT_SECRET": uuid.uuid4().hex * 2,
        "DATABASE_URL": postgres_url.replace("://", f"://{user}@"),
        "DAGSTER_HOME": "/opt/dagster/dagster_home",
        "DAGSTER_PG_URL": dagster_pg_url.replace("://", f"://{user}@"),
        "RABBITMQ_URL": rabbitmq_url,
        "REDIS_URL": REDIS_URL,
        "FRAMEFORGE_S3_ENDPOINT_URL": moto_endpoint,
        "FRAMEFORGE_S3_UPLOADS_BUCKET": f"uploads-{suffix}",
        "FRAMEFORGE_S3_RESULTS_BUCKET": f"results-{suffix}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FRAMEFORGE_SMTP_HOST": smtp_server.host,
        "FRAMEFORGE_SMTP_PORT": str(smtp_server.port),
        "FRAMEFORGE_SMTP_FROM": "FrameForge <frames@example.com>",
        "FRAMEFORGE_NOTIFY_BACKOFF_SECONDS": "0.2",
    }
    home.mkdir()
    workspace = yaml.safe_load((COMPOSE / "workspace.yaml").read_text())
    workspace["load_from"][0]["grpc_server"].update(host="127.0.0.1", port=stack.ports["code"])
    (home / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    try:
        yield stack
    finally:
        stack.remove()


def start_production_shape(stack: Stack) -> None:
    """As compose orders them: the migrations; the code server; once it answers its gRPC health
    check, the Dagster webserver and daemon; the worker and the API. Each with the command
    compose (and the chart) gives it, on this test's ports."""
    code, web, api = stack.ports["code"], stack.ports["webserver"], stack.ports["api"]
    json_logs = ["--log-format", "json"]
    workspace = ["-w", "/opt/dagster/workspace.yaml"]
    stack.once("migrate", "frameforge", "migrate")
    stack.start("code-server", "dagster", "api", "grpc", "-h", "127.0.0.1", "-p", str(code),
                "-m", "frameforge_pipeline.definitions", *json_logs)  # fmt: skip
    health = ["exec", stack.name("code-server"), "dagster", "api", "grpc-health-check"]
    _wait_until(stack, "the code server", lambda: podman.podman(
        *health, "-p", str(code), check=False).returncode == 0)  # fmt: skip
    stack.start("webserver", "dagster-webserver", "-h", "127.0.0.1", "-p", str(web),
                *workspace, *json_logs)  # fmt: skip
    stack.start("daemon", "frameforge", "daemon", *workspace, *json_logs)
    stack.start("worker", "frameforge", "worker")
    stack.start("api", "uvicorn", "frameforge_api.main:app", "--host", "127.0.0.1",
                "--port", str(api))  # fmt: skip
    for url in (f"http://127.0.0.1:{api}/ready", f"http://127.0.0.1:{web}/server_info"):
        _wait_until(stack, url, lambda url=url: _answers(url))


def _answers(url: str) -> bool:
    try:
        return httpx2.get(url, timeout=5).status_code == 200
    except httpx2.TransportError:
        return False


def _wait_until(stack: Stack, what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready():
        if time.monotonic() > deadline:
            states = podman.podman("ps", "-a", "--filter", f"name={stack.prefix}",
                                   "--format", "{{.Names}} {{.Status}}").stdout  # fmt: skip
            logs = {name: lines[-15:] for name, lines in stack.logs().items()}
            raise AssertionError(f"{what}: not ready\n{states}\n{json.dumps(logs, indent=1)}")
        time.sleep(1)


class PeakMemory:
    """The peak resident memory (VmHWM) of each container's processes, read from the host's
    /proc, and of the run processes (``dagster api execute_run``), sampled while they live."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.peaks: dict[str, int] = {}

    def _processes(self) -> Iterator[tuple[str, int]]:
        pids = {}
        for name in self.stack.started:
            pid = podman.podman("inspect", "--format", "{{.State.Pid}}", name, check=False)
            if pid.stdout.strip().isdigit() and int(pid.stdout) > 0:
                pids[int(pid.stdout)] = name.removeprefix(f"{self.stack.prefix}-")
        parents = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError):
                parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        for pid in parents:
            ancestor = pid
            while ancestor not in pids and ancestor in parents and ancestor > 1:
                ancestor = parents[ancestor]
            if ancestor in pids:
                yield pids[ancestor], pid

    def sample(self) -> None:
        for role, pid in self._processes():
            with contextlib.suppress(OSError):
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
                status = Path(f"/proc/{pid}/status").read_text()
                # a process that has just exited (a zombie) has no memory lines left
                if not (peak := re.search(r"VmHWM:\s+(\d+)", status)):
                    continue
                kb = int(peak.group(1))
                # a run: `dagster api execute_run`, or a process the code server spawned for it
                run = b"execute_run" in command or b"multiprocessing.spawn" in command
                key = "run" if run else role
                self.peaks[key] = max(self.peaks.get(key, 0), kb)

    def report(self) -> str:
        return ", ".join(f"{k} {v / 1024:.0f} MB" for k, v in sorted(self.peaks.items()))


def _json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_a_video_through_the_containers(stack, smtp_server, make_clip):
    began = time.monotonic()
    start_production_shape(stack)
    print(f"\nthe production shape ready in {time.monotonic() - began:.0f} s")
    api = f"http://127.0.0.1:{stack.ports['api']}"
    memory = PeakMemory(stack)

    # the image's HEALTHCHECK finds the API's port (not 8000) by itself
    health = podman.podman("healthcheck", "run", stack.name("api"), check=False)
    assert health.returncode == 0, health.stdout + health.stderr

    with httpx2.Client(base_url=api, timeout=30) as client:
        account = {"email": "containers@example.com", "password": "fifteen frames 15"}
        assert client.post("/api/v1/auth/register", json=account).status_code == 201
        deadline = time.monotonic() + 60
        while not smtp_server.messages:
            assert time.monotonic() < deadline, "no verification email"
            time.sleep(0.2)
        link = verification.link_in(smtp_server.messages.pop(0).get_content())
        assert link
        assert client.get(link).status_code == 303  # verified: the job's email may go
        token = client.post("/api/v1/auth/login", json=account).json()["accessToken"]
        client.headers["Authorization"] = f"Bearer {token}"
        data = make_clip("cfr.mp4", seconds=5).path.read_bytes()
        slot = client.post("/api/v1/videos/upload-url", json={"filename": "clip.mp4"}).json()
        put = httpx2.request(slot["method"], slot["uploadUrl"], content=data,
                             headers=slot["headers"])  # fmt: skip
        assert put.status_code == 200
        posted = time.monotonic()
        job_id = client.post("/api/v1/videos/jobs", json={"videoId": slot["videoId"]}).json()[
            "jobId"
        ]
        deadline = time.monotonic() + JOB_TIMEOUT
        while (job := get_job(client, job_id))["status"] not in ("completed", "failed"):
            assert time.monotonic() < deadline, f"job still {job['status']}"
            memory.sample()
            time.sleep(0.5)
        assert job["status"] == "completed", job
        print(f"\njob completed {time.monotonic() - posted:.1f} s after its POST")
        assert job["frameCount"] == 5
        archive = httpx2.get(job["downloadUrl"], follow_redirects=True)  # signed link -> S3
        assert zip_problems(io.BytesIO(archive.content)) == []

        deadline = time.monotonic() + 60
        while not smtp_server.messages:
            assert time.monotonic() < deadline, "no email"
            time.sleep(0.2)
        link = re.search(r"https?://\S+/downloads/\S+", smtp_server.messages[0].get_content())
        assert link, smtp_server.messages[0].get_content()
        assert httpx2.get(link.group(0), follow_redirects=True).content == archive.content
        for _ in range(20):  # more job reads, short of the rate limit (100 a minute)
            get_job(client, job_id)
    memory.sample()
    print(f"peak resident memory: {memory.report()}")

    logs = stack.logs()
    leaks = [line for lines in logs.values() for line in lines if "signature=" in line]
    assert leaks == []
    not_json = {
        name: [line for line in lines if not _json_object(line)] for name, lines in logs.items()
    }
    assert not any(not_json.values()), json.dumps(not_json, indent=1)[:6000]
    assert any("/api/v1/videos/jobs" in line for line in logs[stack.name("api")])

    # as `docker compose down` does: the code server's dependents at once, then the code server
    stopping = time.monotonic()
    roles = ("api", "worker", "webserver", "daemon", "code-server")
    podman.podman("stop", "--time", str(STOP_TIMEOUT), *map(stack.name, roles[:-1]))
    podman.podman("stop", "--time", str(STOP_TIMEOUT), stack.name(roles[-1]))
    print(f"five containers stopped in {time.monotonic() - stopping:.0f} s")
    exits = {
        role: podman.podman(
            "inspect", "--format", "{{.State.ExitCode}}", stack.name(role)
        ).stdout.strip()
        for role in ("migrate", *roles)
    }
    assert exits == dict.fromkeys(exits, "0"), exits
