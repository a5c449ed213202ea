"""Finding the deployment tools and the chart, preparing the chart for offline rendering,
rendering and validating manifests. A missing tool or chart skips its tests locally and fails
them under FRAMEFORGE_REQUIRE_SERVICES=1 (CI), as the integration tests do with servers."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DAGSTER_CHART = REPO.parent / "shared" / "dagster-chart"
FRAMEFORGE_CHART = REPO / "deploy" / "helm" / "frameforge"
DAGSTER_VALUES = REPO / "helm-values" / "dagster.yaml"
INSTALL_HINT = "scripts/install-deploy-tools.sh"

# How docs/deploy.md installs the two charts.
DAGSTER_RELEASE = "dagster"
FRAMEFORGE_RELEASE = "frameforge"
NAMESPACE = "frameforge"

Objects = dict[tuple[str, str], Mapping[str, Any]]

# The Kubernetes versions every rendered object must be valid for (kubernetes-validate ships
# schemas for 1.25 to 1.37).
KUBERNETES_VERSIONS = ("1.28", "1.31")
# The definitions embedded into the chart's values schema in place of the URLs it refers to.
SCHEMA_DEFINITIONS_VERSION = "1.31.0"


def missing(message: str) -> None:
    """Skip the calling test with ``message``, or fail it when CI requires everything."""
    if os.environ.get("FRAMEFORGE_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def find_tool(name: str, hint: str = INSTALL_HINT) -> str:
    """``.tools/bin/<name>`` (scripts/install-deploy-tools.sh puts it there), else on PATH, else
    next to this Python (a console script of a dev dependency); ``hint`` says how to get it."""
    local = REPO / ".tools" / "bin" / name
    if os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    missing(f"{name} not found in .tools/bin or on PATH (run {hint})")
    raise AssertionError("unreachable")


def dagster_chart() -> Path:
    if not (DAGSTER_CHART / "Chart.yaml").is_file():
        missing(f"the official Dagster chart is not at {DAGSTER_CHART}")
    return DAGSTER_CHART


# --- the chart, made renderable offline ----------------------------------------------------------

_EXTERNAL_REF = re.compile(
    r"^https?://[^#]*/_definitions\.json#/definitions/(?P<name>[^/]+)(?P<rest>/.*)?$"
)


def _kubernetes_definitions() -> dict[str, Any]:
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    path = folder / f"v{SCHEMA_DEFINITIONS_VERSION}-local" / "_definitions.json"
    return dict(json.loads(path.read_text())["$defs"])


def _walk_refs(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node
        for value in node.values():
            yield from _walk_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_refs(value)


def localize_schema(schema: dict[str, Any], definitions: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with every external Kubernetes ``$ref`` replaced by a local one into ``$defs``,
    where the referenced definitions (and those they refer to) are embedded."""
    schema = copy.deepcopy(schema)
    local = schema.setdefault("$defs", {})
    wanted: list[str] = []
    for node in _walk_refs(schema):
        if match := _EXTERNAL_REF.match(node["$ref"]):
            name = match["name"]
            node["$ref"] = f"#/$defs/{name}{match['rest'] or ''}"
            wanted.append(name)
        elif node["$ref"].startswith("http"):
            raise AssertionError(f"an external $ref of another shape: {node['$ref']}")
    while wanted:
        name = wanted.pop()
        if name in local:
            continue
        if name not in definitions:
            raise AssertionError(
                f"Kubernetes {SCHEMA_DEFINITIONS_VERSION} has no definition {name}"
            )
        local[name] = copy.deepcopy(definitions[name])
        for node in _walk_refs(local[name]):
            wanted.append(node["$ref"].removeprefix("#/$defs/"))
    return schema


def prepare_dagster_chart(target: Path) -> Path:
    """A copy of the official chart in ``target`` that ``helm template`` renders without network:
    local schema definitions, and stubs for the bitnami charts it depends on (all disabled)."""
    chart = target / "dagster"
    shutil.copytree(dagster_chart(), chart)
    definitions = _kubernetes_definitions()
    for path in chart.rglob("values.schema.json"):
        schema = localize_schema(json.loads(path.read_text()), definitions)
        path.write_text(json.dumps(schema, indent=2))
    for dependency in yaml.safe_load((chart / "Chart.yaml").read_text())["dependencies"]:
        stub = chart / "charts" / dependency["name"]
        if not stub.exists():
            stub.mkdir(parents=True)
            (stub / "Chart.yaml").write_text(
                yaml.safe_dump(
                    {
                        "apiVersion": "v2",
                        "name": dependency["name"],
                        "version": dependency["version"],
                        "description": "offline stub: disabled in helm-values/dagster.yaml",
                    }
                )
            )
    return chart


# --- helm ----------------------------------------------------------------------------------------


def helm_template(
    helm: str,
    chart: Path,
    release: str,
    namespace: str,
    values: Sequence[Path] = (),
    settings: Iterable[str] = (),
    home: Path | None = None,
    kube_version: str = "1.31.0",
) -> list[dict[str, Any]]:
    """The objects ``helm template`` renders (schema validation on), parsed."""
    command = [helm, "template", release, str(chart), "--namespace", namespace]
    command += ["--kube-version", kube_version]
    for path in values:
        command += ["--values", str(path)]
    for setting in settings:
        command += ["--set", setting]
    env = dict(os.environ)
    if home is not None:  # keep helm's cache and config out of the user's home
        for variable in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            env[variable] = str(home / variable.lower())
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{done.stderr}")
    return [item for item in yaml.safe_load_all(done.stdout) if item]


def by_kind(objects: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {(item["kind"], item["metadata"]["name"]): item for item in objects}


def validate_strict(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every problem ``kubernetes-validate --strict`` finds, for each version we support."""
    import kubernetes_validate

    problems = []
    for item in objects:
        for version in KUBERNETES_VERSIONS:
            name = f"{item.get('kind')}/{item.get('metadata', {}).get('name')} on {version}"
            try:
                kubernetes_validate.validate(dict(item), version, strict=True)
            except kubernetes_validate.ValidationError as error:
                problems.append(f"{name}: {'.'.join(map(str, error.path))}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError as error:
                problems.append(f"{name}: {error.message}")
    return problems


def instance_yaml(objects: Objects) -> dict[str, Any]:
    """The Dagster instance (dagster.yaml) that the chart writes into its instance ConfigMap."""
    config_map = objects[("ConfigMap", f"{DAGSTER_RELEASE}-instance")]
    loaded: dict[str, Any] = yaml.safe_load(config_map["data"]["dagster.yaml"])
    return loaded


_SUFFIXES = {
    "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}  # fmt: skip


def quantity(value: str | int | float) -> float:
    """A Kubernetes resource quantity ("500m", "2Gi", "1") as a number."""
    text = str(value)
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * _SUFFIXES[suffix]
    return float(text)
