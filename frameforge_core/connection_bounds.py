"""How long any connection of any FrameForge process may wait, in one place.

Every connection to a server (the app database, Dagster's storage, RabbitMQ, Redis, S3, SMTP)
has a connect timeout, a bound on each read or statement, and TCP keepalives, so a server
that stops answering (a stall: the connection open, no byte moving; a black hole: packets
dropped) is an error within seconds to a minute, never a wait for ever. What each client
gets, and the bound it makes (docs/reliability.md lists them):

- PostgreSQL, the app's (psycopg) and Dagster's (dagster-postgres, psycopg2): libpq's
  ``connect_timeout`` 5 s, TCP keepalives (a silent peer is dropped 30 + 3 x 10 = 60 s after
  its last byte), ``tcp_user_timeout`` 60 s (data sent and never acknowledged), and
  ``statement_timeout`` 60 s on the server. A parameter the URL already sets is kept.
- RabbitMQ (pika): 5 s to connect a socket, 15 s to open the connection, AMQP heartbeats
  every 30 s (a dead broker is seen within 60 s), 60 s at most blocked by the broker's
  flow control, the same TCP keepalives.
- Redis: 0.5 s to connect and per command (the API falls back to its process's memory),
  keepalives, and a PING before reusing a connection idle for 30 s.
- S3 (botocore): 5 s to connect, 30 s per read, 5 retries (standard mode), keepalives.
- SMTP (smtplib): 10 s to connect and per reply (frameforge_core/mail.py).
"""

from __future__ import annotations

import socket
from typing import Any

from sqlalchemy import make_url

CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_SECONDS = 60
KEEPALIVE_IDLE_SECONDS = 30  # idle this long, the peer is probed
KEEPALIVE_INTERVAL_SECONDS = 10  # then every this long
KEEPALIVE_PROBES = 3  # and dropped after this many probes go unanswered
UNACKNOWLEDGED_SECONDS = 60  # data sent that the peer never acknowledges

POSTGRES_PARAMETERS: dict[str, str] = {
    "connect_timeout": str(CONNECT_TIMEOUT_SECONDS),
    "keepalives": "1",
    "keepalives_idle": str(KEEPALIVE_IDLE_SECONDS),
    "keepalives_interval": str(KEEPALIVE_INTERVAL_SECONDS),
    "keepalives_count": str(KEEPALIVE_PROBES),
    "tcp_user_timeout": str(UNACKNOWLEDGED_SECONDS * 1000),
    "options": f"-c statement_timeout={STATEMENT_TIMEOUT_SECONDS * 1000}",
}

RABBITMQ_SOCKET_TIMEOUT_SECONDS = CONNECT_TIMEOUT_SECONDS
RABBITMQ_STACK_TIMEOUT_SECONDS = 15
RABBITMQ_HEARTBEAT_SECONDS = 30
RABBITMQ_BLOCKED_TIMEOUT_SECONDS = 60

REDIS_TIMEOUT_SECONDS = 0.5
REDIS_HEALTH_CHECK_SECONDS = 30

S3_READ_TIMEOUT_SECONDS = 30
S3_RETRIES = 5  # botocore's retries.max_attempts: retries after the first attempt


def postgres_parameters(url: str) -> dict[str, str]:
    """The libpq parameters ``url`` does not set itself, to pass as connect arguments."""
    given = make_url(url).query
    return {name: value for name, value in POSTGRES_PARAMETERS.items() if name not in given}


def bounded_postgres_url(url: str) -> str:
    """``url`` with ``postgres_parameters`` added to its query (for Dagster's storage, which
    takes a URL only)."""
    parsed = make_url(url)
    return parsed.update_query_dict(postgres_parameters(url)).render_as_string(hide_password=False)


def tcp_keepalive_options() -> dict[str, int]:
    """pika's ``tcp_options``: SO_KEEPALIVE with the idle, interval and probe count above."""
    return {
        "TCP_KEEPIDLE": KEEPALIVE_IDLE_SECONDS,
        "TCP_KEEPINTVL": KEEPALIVE_INTERVAL_SECONDS,
        "TCP_KEEPCNT": KEEPALIVE_PROBES,
    }


def redis_options() -> dict[str, Any]:
    """Keyword arguments of ``redis.Redis``."""
    return {
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_keepalive": True,
        "socket_keepalive_options": {
            socket.TCP_KEEPIDLE: KEEPALIVE_IDLE_SECONDS,
            socket.TCP_KEEPINTVL: KEEPALIVE_INTERVAL_SECONDS,
            socket.TCP_KEEPCNT: KEEPALIVE_PROBES,
        },
        "health_check_interval": REDIS_HEALTH_CHECK_SECONDS,
    }


def s3_options() -> dict[str, Any]:
    """Keyword arguments of ``botocore.config.Config``."""
    return {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "read_timeout": S3_READ_TIMEOUT_SECONDS,
        "retries": {"max_attempts": S3_RETRIES, "mode": "standard"},
        "tcp_keepalive": True,
    }
