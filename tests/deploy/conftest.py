"""Rendered charts, shared by the deploy tests (each render takes a fraction of a second)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import tools
from tests.deploy.tools import DAGSTER_RELEASE, FRAMEFORGE_RELEASE, NAMESPACE, Objects


@pytest.fixture(scope="session")
def helm() -> str:
    return tools.find_tool("helm")


@pytest.fixture(scope="session")
def helm_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("helm-home")


@pytest.fixture(scope="session")
def dagster_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official chart, prepared for rendering without network."""
    return tools.prepare_dagster_chart(tmp_path_factory.mktemp("chart"))


@pytest.fixture(scope="session")
def render_dagster(helm: str, dagster_chart: Path, helm_home: Path) -> Any:
    def render(*settings: str) -> list[dict[str, Any]]:
        return tools.helm_template(
            helm, dagster_chart, DAGSTER_RELEASE, NAMESPACE, [tools.DAGSTER_VALUES], settings,
            home=helm_home,
        )  # fmt: skip

    return render


@pytest.fixture(scope="session")
def render_frameforge(helm: str, helm_home: Path) -> Any:
    def render(*settings: str) -> list[dict[str, Any]]:
        return tools.helm_template(
            helm, tools.FRAMEFORGE_CHART, FRAMEFORGE_RELEASE, NAMESPACE, (), settings,
            home=helm_home,
        )  # fmt: skip

    return render


@pytest.fixture(scope="session")
def dagster_objects(render_dagster: Any) -> Objects:
    return tools.by_kind(render_dagster())


@pytest.fixture(scope="session")
def frameforge_objects(render_frameforge: Any) -> Objects:
    return tools.by_kind(render_frameforge())


@pytest.fixture(scope="session")
def dagster_instance_config(dagster_objects: Objects) -> dict[str, Any]:
    return tools.instance_yaml(dagster_objects)


@pytest.fixture(scope="session")
def dagster_values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(tools.DAGSTER_VALUES.read_text())
    return loaded


@pytest.fixture(scope="session")
def frameforge_values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((tools.FRAMEFORGE_CHART / "values.yaml").read_text())
    return loaded
