"""The image, built once per session with podman (tests/container/podman.py)."""

import fcntl
import tempfile
import time
from pathlib import Path

import pytest

from tests.container import podman

# The servers of the integration tests, for the production shape.
from tests.integration.conftest import dagster_pg_url, postgres_url, rabbitmq_url  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def build_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build") / "build.log"


@pytest.fixture(scope="session")
def image(build_log: Path) -> str:
    """The repository's Dockerfile built as ``podman.IMAGE``: cold, every layer; warm (an
    earlier run on this machine), from podman's layer cache. One build at a time on this
    machine (a file lock): pytest-xdist's workers each ask for it, the later ones find it
    cached."""
    podman.require_podman()
    lock_path = Path(tempfile.gettempdir()) / "frameforge-tests-podman-build.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        began = time.monotonic()
        podman.ensure_base_images()
        base = time.monotonic() - began
        seconds = podman.build(podman.IMAGE, log=build_log)
    print(f"\n{podman.IMAGE}: base image {base:.0f} s, build {seconds:.0f} s (log: {build_log})")
    return podman.IMAGE
