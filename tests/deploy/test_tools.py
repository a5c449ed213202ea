"""The rule for what the deploy tests need: missing locally, a test skips with one line saying
why; missing in CI (FRAMEFORGE_REQUIRE_SERVICES=1), it fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.deploy import tools

SKIPPED = pytest.skip.Exception
FAILED = pytest.fail.Exception


@pytest.mark.parametrize(("required", "outcome"), [(None, SKIPPED), ("1", FAILED)])
def test_a_missing_tool(
    monkeypatch: pytest.MonkeyPatch, required: str | None, outcome: type[BaseException]
) -> None:
    if required is None:
        monkeypatch.delenv("FRAMEFORGE_REQUIRE_SERVICES", raising=False)
    else:
        monkeypatch.setenv("FRAMEFORGE_REQUIRE_SERVICES", required)
    with pytest.raises(outcome, match=r"^no-such-tool not found .*install-deploy-tools\.sh\)$"):
        tools.find_tool("no-such-tool")


@pytest.mark.parametrize(("required", "outcome"), [(None, SKIPPED), ("1", FAILED)])
def test_a_missing_chart(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    required: str | None,
    outcome: type[BaseException],
) -> None:
    if required is None:
        monkeypatch.delenv("FRAMEFORGE_REQUIRE_SERVICES", raising=False)
    else:
        monkeypatch.setenv("FRAMEFORGE_REQUIRE_SERVICES", required)
    monkeypatch.setattr(tools, "DAGSTER_CHART", tmp_path / "dagster-chart")
    with pytest.raises(outcome, match=r"the official Dagster chart is not at .*dagster-chart$"):
        tools.dagster_chart()


def test_the_install_script_parses() -> None:
    script = tools.REPO / "scripts" / "install-deploy-tools.sh"
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=10)


def test_quantities() -> None:
    assert tools.quantity("500m") == 0.5
    assert tools.quantity("2") == 2
    assert tools.quantity("768Mi") == 768 * 2**20
    assert tools.quantity("2Gi") == 2 * 2**30
    assert tools.quantity("1G") == 10**9
