"""Integration tests talk to real servers on loopback. Locally an unreachable server skips
its tests; with FRAMEFORGE_REQUIRE_SERVICES=1 (CI) it fails them."""

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator

import dagster as dg
import psycopg
import pytest

# The API fixtures of tests/api; modules here point them at real servers by overriding
# ``database_url``, ``instance`` or ``storage``.
from tests.api.conftest import (  # noqa: F401
    alice,
    bob,
    client,
    settings,
    sign_up,
    upload,
)

POSTGRES_ADMIN_URL = os.environ.get("FRAMEFORGE_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")


def require(host: str, port: int, name: str) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as error:
        message = f"{name} is not reachable on {host}:{port} ({error})"
        if os.environ.get("FRAMEFORGE_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


@contextlib.contextmanager
def _new_database() -> Iterator[str]:
    require("127.0.0.1", 5432, "PostgreSQL")
    name = f"frameforge_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test (the app's), dropped afterwards."""
    with _new_database() as name:
        yield f"postgresql+psycopg://127.0.0.1:5432/{name}"


RABBITMQ_URL = os.environ.get("FRAMEFORGE_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/%2F")


def waiting(url: str, queue: str) -> int:
    """How many messages ``queue`` holds ready (not those a consumer has taken)."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    count = connection.channel().queue_declare(queue, passive=True).method.message_count
    connection.close()
    return int(count)


@pytest.fixture
def rabbitmq_url() -> Iterator[str]:
    """The broker with FrameForge's topology declared and its queues empty, held by this test
    alone: tests that use the broker's fixed queues take turns (a file lock, across xdist
    workers and test sessions on this machine)."""
    import fcntl
    import tempfile

    import pika

    from frameforge_core import messaging

    require("127.0.0.1", 5672, "RabbitMQ")
    with open(os.path.join(tempfile.gettempdir(), "frameforge-tests-rabbitmq.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
        channel = connection.channel()
        for queue in messaging.QUEUES:  # empty, and declared as this version declares them
            channel.queue_delete(queue)
        messaging.DEFAULT_TOPOLOGY.declare(channel)
        connection.close()
        yield RABBITMQ_URL


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """Integration tests run on PostgreSQL: the app database of every fixture here."""
    return postgres_url


@pytest.fixture
def instance(pg_instance: dg.DagsterInstance) -> dg.DagsterInstance:
    """Integration tests run on PostgreSQL: the Dagster instance of every fixture here."""
    return pg_instance


@pytest.fixture
def dagster_pg_url() -> Iterator[str]:
    """A new PostgreSQL database for a Dagster instance (dagster-postgres speaks psycopg2)."""
    with _new_database() as name:
        yield f"postgresql+psycopg2://127.0.0.1:5432/{name}"


@pytest.fixture
def pg_instance(dagster_pg_url: str) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance whose runs, events and schedules live in PostgreSQL."""
    overrides = {"storage": {"postgres": {"postgres_url": dagster_pg_url}}}
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance
