"""The image, built once per session with podman (tests/container/podman.py)."""

import time
from pathlib import Path

import pytest

from tests.container import podman

# The servers of the integration tests, for the production shape.
from tests.integration.conftest import dagster_pg_url, postgres_url, rabbitmq_url  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The repository's Dockerfile built as ``podman.IMAGE``: cold, every layer; warm (an
    earlier run on this machine), from podman's layer cache."""
    podman.require_podman()
    began = time.monotonic()
    podman.ensure_base_images()
    base = time.monotonic() - began
    log: Path = tmp_path_factory.mktemp("build") / "build.log"
    seconds = podman.build(podman.IMAGE, log=log)
    print(f"\n{podman.IMAGE}: base image {base:.0f} s, build {seconds:.0f} s (log: {log})")
    return podman.IMAGE
