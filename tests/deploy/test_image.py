"""The image: hadolint finds nothing in the Dockerfile, and its shape is the one the charts and
docs/deploy.md rely on. tests/container/ builds and runs it with podman."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.deploy import tools
from tests.deploy.tools import REPO

DOCKERFILE = REPO / "Dockerfile"


def hadolint(path: Path) -> list[dict[str, object]]:
    tool = tools.find_tool("hadolint", "pip install -e '.[dev]'")
    done = subprocess.run(
        [tool, "--no-color", "--format", "json", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    findings: list[dict[str, object]] = json.loads(done.stdout or "[]")
    return findings


def test_hadolint_finds_nothing() -> None:
    assert hadolint(DOCKERFILE) == []


def test_hadolint_does_look(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    codes = {finding["code"] for finding in hadolint(bad)}
    assert {"DL3007", "DL3008"} <= codes  # a :latest base; an unpinned, unconfirmed apt-get


def stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            found.append([])
        found[-1].append(line)
    return found


def test_the_locked_dependencies_are_a_layer_before_the_project() -> None:
    """A code change rebuilds only the project's small layers: the dependencies are installed
    from the lock, by hash, before any source is copied (and the builder stage only builds the
    project's wheel)."""
    builder, runtime = stages()
    assert re.match(r"FROM docker\.io/library/python:3\.11-slim[-\w.]* AS builder$", builder[0])
    assert any("pip wheel --no-cache-dir --no-deps" in line for line in builder)
    assert re.match(r"FROM docker\.io/library/python:3\.11-slim[-\w.]* AS runtime$", runtime[0])
    copies = [i for i, line in enumerate(runtime) if line.startswith(("COPY", "ADD"))]
    assert runtime[copies[0]].startswith("COPY requirements/runtime.txt ")
    (install,) = [i for i, line in enumerate(runtime) if "--require-hashes" in line]
    assert "--only-binary=:all:" in runtime[install]  # no compiler in the runtime image
    assert copies[0] < install < copies[1]
    assert runtime[copies[1]].startswith("COPY --from=builder /staging/")  # the project only
    assert len(copies) == 2
    assert not re.search(r"\b(gcc|build-essential|g\+\+|make)\b", " ".join(runtime))


def test_nothing_is_bind_mounted_from_another_stage() -> None:
    """podman 4.3 / buildah 1.28 take such a RUN from their cache after the other stage
    changed: the image kept the old code (tests/container rebuilds after a change)."""
    text = DOCKERFILE.read_text()
    assert "type=bind" not in text
    # the CA certificate pip may need is a secret: mounted while pip runs, in no layer
    assert all("--mount=type=secret,id=pip-ca" in line for line in text.splitlines()
               if "pip-ca" in line and line.lstrip().startswith("RUN"))  # fmt: skip
    assert not re.search(r"(?m)^(COPY|ADD)\b.*\.(crt|pem)\b", text)


def test_it_runs_as_a_numeric_non_root_user_under_tini() -> None:
    runtime = stages()[-1]
    (user,) = [line for line in runtime if line.startswith("USER ")]
    uid = user.split()[1].split(":")[0]
    assert uid.isdigit()  # runAsNonRoot can check a number
    assert int(uid) != 0
    # -e 143: a clean shutdown on SIGTERM (uvicorn re-raises it) exits 0, not 143
    assert 'ENTRYPOINT ["/usr/bin/tini", "-e", "143", "--"]' in runtime
    (cmd,) = [line for line in runtime if line.startswith("CMD ")]
    assert json.loads(cmd[4:]) == [
        "uvicorn", "frameforge_api.main:app", "--host", "0.0.0.0", "--port", "8000",
    ]  # fmt: skip
    (health,) = [line for line in runtime if line.startswith("HEALTHCHECK ")]
    assert '"frameforge.healthcheck"' in health  # the port the container listens on
