"""Every connection to a real server carries the bounds of frameforge_core/connection_bounds.py:
read back from the server (statement_timeout) and from the kernel (the socket's keepalive
options), not only from the configuration."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from frameforge_api.main import _redis
from frameforge_core import connection_bounds, messaging
from frameforge_core.connection_bounds import (
    KEEPALIVE_IDLE_SECONDS,
    KEEPALIVE_INTERVAL_SECONDS,
    KEEPALIVE_PROBES,
)
from frameforge_core.database import create_db_engine
from frameforge_core.settings import ensure_dagster_home
from frameforge_pipeline.resources.s3_storage import _client
from tests.integration.conftest import require

KEEPALIVE = (1, KEEPALIVE_IDLE_SECONDS, KEEPALIVE_INTERVAL_SECONDS, KEEPALIVE_PROBES)


def keepalive(fd: int) -> tuple[int, int, int, int]:
    """SO_KEEPALIVE and the probes' idle time, interval and count of the socket ``fd``."""
    sock = socket.socket(fileno=socket.dup(fd))
    try:
        return (
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
        )
    finally:
        sock.close()


def test_the_app_database(postgres_url):
    engine = create_db_engine(postgres_url)
    connection = engine.raw_connection()
    try:
        psycopg = connection.driver_connection
        assert psycopg is not None
        assert psycopg.execute("SHOW statement_timeout").fetchone() == ("1min",)
        assert keepalive(psycopg.pgconn.socket) == KEEPALIVE
        parameters = psycopg.info.get_parameters()
        assert parameters["connect_timeout"] == "5"
        assert parameters["tcp_user_timeout"] == "60000"
    finally:
        connection.close()
        engine.dispose()


def test_a_parameter_the_url_sets_is_kept(postgres_url):
    engine = create_db_engine(f"{postgres_url}?options=-c%20statement_timeout%3D5000")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "5s"
    engine.dispose()


@pytest.fixture
def dagster_instance(
    dagster_pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    """The embedded default's instance on PostgreSQL, as `frameforge up` and the API make it."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_PG_URL", dagster_pg_url)
    ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        yield instance


def test_the_dagster_storage(dagster_instance):
    engine = dagster_instance.run_storage._engine  # type: ignore[attr-defined]
    connection = engine.raw_connection()
    try:
        psycopg2 = connection.driver_connection
        with psycopg2.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == ("1min",)
        assert keepalive(psycopg2.fileno()) == KEEPALIVE
        parameters = psycopg2.get_dsn_parameters()
        assert parameters["connect_timeout"] == "5"
        assert parameters["tcp_user_timeout"] == "60000"
    finally:
        connection.close()


def test_rabbitmq(rabbitmq_url):
    connection, _ = messaging.connect(rabbitmq_url)
    try:
        parameters = connection._impl.params
        assert parameters.socket_timeout == connection_bounds.RABBITMQ_SOCKET_TIMEOUT_SECONDS
        assert parameters.blocked_connection_timeout == 60
        assert parameters.heartbeat == 30
        assert keepalive(connection._impl._transport._sock.fileno()) == KEEPALIVE
    finally:
        connection.close()
    own = messaging.connection_parameters(f"{rabbitmq_url}?heartbeat=90")
    assert own.heartbeat == 90  # the URL's own kept
    assert own.socket_timeout == connection_bounds.RABBITMQ_SOCKET_TIMEOUT_SECONDS


def test_redis():
    require("127.0.0.1", 6379, "Redis")
    client = _redis("redis://127.0.0.1:6379/15")
    assert client is not None
    with contextlib.closing(client):
        assert client.ping()
        connection = client.connection_pool.get_connection()
        try:
            assert connection._sock is not None
            assert keepalive(connection._sock.fileno()) == KEEPALIVE
            assert connection.socket_timeout == connection_bounds.REDIS_TIMEOUT_SECONDS
            assert connection.health_check_interval == 30
        finally:
            client.connection_pool.release(connection)


def test_s3(moto_endpoint):
    config = _client(moto_endpoint, "us-east-1")._client_config
    assert (config.connect_timeout, config.read_timeout) == (5, 30)
    assert config.tcp_keepalive is True
    assert config.retries == {"total_max_attempts": 6, "mode": "standard"}  # 5 retries
