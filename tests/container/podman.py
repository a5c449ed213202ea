"""podman for the container tests: the engine with the settings this machine needs, the base
image (a stand-in built from Debian's packages when it cannot be pulled), the image build.

Without podman the tests skip with one line; with FRAMEFORGE_REQUIRE_SERVICES=1 (CI, which
installs it: scripts/install-test-packages-apt.sh) they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CONTAINERS_CONF = HERE / "containers.conf"
PYTHON_BASE = HERE / "python-base.sh"
IMAGE = "localhost/frameforge:test"

# What every FrameForge container runs with in these tests: the chart's security settings.
SECURE = [
    "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
    "--user", "10001:10001", "--tmpfs", "/tmp:rw,mode=1777,size=1g",
]  # fmt: skip


def missing(message: str) -> None:
    if os.environ.get("FRAMEFORGE_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(
    *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["podman", *args], capture_output=True, text=True, env=env(), timeout=timeout
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args[:3])} ... failed:\n{done.stderr[-3000:]}")
    return done


def require_podman() -> None:
    if shutil.which("podman") is None:
        missing("podman is not installed: the container tests skip (CI installs it)")


def base_images(dockerfile: Path = REPO / "Dockerfile") -> list[str]:
    """The images the Dockerfile's stages start FROM (not its own stages)."""
    text = dockerfile.read_text()
    stages = set(re.findall(r"(?im)^FROM\s+\S+\s+AS\s+(\S+)", text))
    found = re.findall(r"(?im)^FROM\s+(\S+)", text)
    return sorted({image for image in found if image not in stages})


def ensure_base_images() -> None:
    """Each base image in podman's storage: kept from an earlier run, pulled, or built from
    Debian's packages (python-base.sh, which needs root)."""
    for image in base_images():
        if podman("image", "exists", image, check=False).returncode == 0:
            continue
        if os.geteuid() != 0:
            missing(f"{image} cannot be pulled or built here: building it needs root")
        done = subprocess.run(
            ["bash", str(PYTHON_BASE), image], capture_output=True, text=True, env=env(),
            timeout=1800,
        )  # fmt: skip
        assert done.returncode == 0, f"{PYTHON_BASE.name} {image}:\n{done.stderr[-3000:]}"


def pip_ca_certificate() -> str | None:
    """The CA certificate this machine's pip trusts (``pip config``), if one is set: the build
    needs it too, as a secret (never in a layer)."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    )
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(".cert") and Path(value.strip("'\"")).is_file():
            return value.strip("'\"")
    return os.environ.get("PIP_CERT") or None


def build(tag: str, context: Path = REPO, log: Path | None = None) -> float:
    """``podman build`` of ``context`` as ``tag``; returns the seconds it took. ``--format
    docker`` keeps the HEALTHCHECK (the OCI format has none)."""
    command = ["build", "--format", "docker", "--network", "host", "-t", tag]
    if (certificate := pip_ca_certificate()) is not None:
        command += ["--secret", f"id=pip-ca,src={certificate}"]
    began = time.monotonic()
    done = podman(*command, str(context), check=False, timeout=3600)
    seconds = time.monotonic() - began
    if log is not None:
        log.write_text(done.stdout + done.stderr)
    assert done.returncode == 0, f"podman build failed:\n{done.stderr[-4000:]}"
    return seconds


def run(image: str, command: Sequence[str], *options: str) -> subprocess.CompletedProcess[str]:
    """A one-shot container of ``image`` with the chart's security settings (and without the
    API's HEALTHCHECK, which podman cannot schedule without systemd anyway)."""
    return podman("run", "--rm", "--no-healthcheck", *SECURE, *options, image, *command,
                  check=False)  # fmt: skip
