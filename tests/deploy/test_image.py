"""The image: hadolint finds nothing in the Dockerfile, and its shape is the one the charts and
docs/deploy.md rely on (no container engine here to build it)."""

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


def test_a_builder_stage_builds_the_wheel_and_a_slim_runtime_installs_it() -> None:
    builder, runtime = stages()
    assert re.match(r"FROM python:3\.11[-\w.]* AS builder$", builder[0])
    assert any(re.match(r"RUN pip wheel .*--wheel-dir /wheels \.$", line) for line in builder)
    assert re.match(r"FROM python:3\.11-slim[-\w.]* AS runtime$", runtime[0])
    install = next(line for line in runtime if "pip install" in line)
    assert "--mount=type=bind,from=builder" in install  # no wheel layer in the final image
    assert "/wheels/frameforge-*.whl" in install
    assert "--no-index" in install
    assert "-e " not in install  # a wheel, not an editable checkout
    # the final stage copies no source and installs no compiler
    assert not [line for line in runtime if line.startswith(("COPY", "ADD"))]
    assert not re.search(r"\b(gcc|build-essential|g\+\+|make)\b", " ".join(runtime))


def test_it_runs_as_a_numeric_non_root_user_under_tini() -> None:
    runtime = stages()[-1]
    (user,) = [line for line in runtime if line.startswith("USER ")]
    uid = user.split()[1].split(":")[0]
    assert uid.isdigit()  # runAsNonRoot can check a number
    assert int(uid) != 0
    assert 'ENTRYPOINT ["/usr/bin/tini", "--"]' in runtime
    (cmd,) = [line for line in runtime if line.startswith("CMD ")]
    assert json.loads(cmd[4:]) == [
        "uvicorn", "frameforge_api.main:app", "--host", "0.0.0.0", "--port", "8000",
    ]  # fmt: skip
    (health,) = [line for line in runtime if line.startswith("HEALTHCHECK ")]
    assert "/health" in health


def test_the_build_context_leaves_out_what_must_not_go_in() -> None:
    ignored = {
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }  # fmt: skip
    for pattern in (".git/", ".venv/", ".tools/", "tests/", ".frameforge/", ".env", ".env.*"):
        assert pattern in ignored, pattern
    for needed in ("pyproject.toml", "README.md", "frameforge_core/", "frameforge_pipeline/"):
        assert needed not in ignored, needed
