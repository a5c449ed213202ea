"""Integration tests talk to real servers on loopback. Locally an unreachable server skips
its tests; with FRAMEFORGE_REQUIRE_SERVICES=1 (CI) it fails them."""

import os
import socket
import uuid
from collections.abc import Iterator

import psycopg
import pytest

POSTGRES_ADMIN_URL = os.environ.get("FRAMEFORGE_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")


def require(host: str, port: int, name: str) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as error:
        message = f"{name} is not reachable on {host}:{port} ({error})"
        if os.environ.get("FRAMEFORGE_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test, dropped afterwards."""
    require("127.0.0.1", 5432, "PostgreSQL")
    name = f"frameforge_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
