"""The lock (requirements/, `make lock`): every dependency pyproject.toml declares is pinned
with hashes, in the image's lock and in the tests' alike, at the same versions."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def pins(name: str) -> dict[str, set[str]]:
    """name -> the versions the lock file pins (one per environment marker)."""
    found: dict[str, set[str]] = {}
    text = (REPO / "requirements" / name).read_text()
    for line in text.splitlines():
        if match := PIN.match(line):
            found.setdefault(canonicalize_name(match.group(1)), set()).add(match.group(2))
    # every pin carries hashes: `pip install --require-hashes` checks each file
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry)
    return found


def declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(item) for item in listed]


def test_the_images_lock_pins_every_runtime_dependency_within_its_range():
    runtime = pins("runtime.txt")
    for requirement in declared():
        versions = runtime.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in requirements/runtime.txt: run make lock"
        assert all(requirement.specifier.contains(v) for v in versions), (requirement, versions)


def test_the_tests_lock_has_the_same_versions_and_the_dev_tools():
    runtime, dev = pins("runtime.txt"), pins("dev.txt")
    assert {name: dev.get(name) for name in runtime} == runtime  # what CI tests is what ships
    for requirement in declared("dev"):
        versions = dev.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in requirements/dev.txt: run make lock"
        assert all(requirement.specifier.contains(v) for v in versions), (requirement, versions)
