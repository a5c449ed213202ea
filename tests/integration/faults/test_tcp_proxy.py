"""The fault tests' TCP proxy itself, against an echo server on loopback: it closes what it
opens, lives through the open-file limit, and its stall and black hole do what they say."""

from __future__ import annotations

import contextlib
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.helpers import wait_until
from tests.integration.faults.tcp_proxy import TcpProxy

QUIET = 0.5  # how long "nothing arrives" is watched for
FILE_LIMIT = 64  # the proxy process's open-file limit in the limit tests


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    """A server that sends back what it receives, one thread per connection."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve(connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            while data := connection.recv(65536):
                connection.sendall(data)

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                threading.Thread(target=serve, args=(server.accept()[0],), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()
    server.close()


@pytest.fixture
def proxy(echo) -> Iterator[TcpProxy]:
    proxy = TcpProxy(echo)
    yield proxy
    proxy.close()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def echoes(sock: socket.socket, data: bytes = b"ping") -> bool:
    sock.sendall(data)
    received = b""
    with contextlib.suppress(TimeoutError):
        while len(received) < len(data) and (chunk := sock.recv(65536)):
            received += chunk
    return received == data


def silent(sock: socket.socket) -> bool:
    """Nothing arrives for QUIET seconds, and the connection is not closed."""
    sock.settimeout(QUIET)
    try:
        sock.recv(1)
    except TimeoutError:
        return True
    finally:
        sock.settimeout(5)
    return False


def test_passes_bytes_and_closes_both_sockets_when_the_client_hangs_up(proxy):
    for _ in range(50):
        with connect(proxy.port) as sock:
            assert echoes(sock)
    wait_until(lambda: proxy.open_connections == 0, 5, "connections left open")


def test_a_stall_holds_every_byte_without_closing_then_lets_them_through(proxy):
    before = connect(proxy.port)
    assert echoes(before)
    proxy.stall()
    before.sendall(b"held")
    assert silent(before)
    during = connect(proxy.port)  # accepted, and held too
    during.sendall(b"also held")
    assert silent(during)
    proxy.restore()
    assert before.recv(4) == b"held"
    assert _read(during, 9) == b"also held"
    assert echoes(before)
    assert echoes(during)


def test_a_black_hole_accepts_and_never_answers_and_what_it_swallowed_stays_lost(proxy):
    before = connect(proxy.port)
    assert echoes(before)
    proxy.black_hole()
    during = connect(proxy.port)  # accepted: a connect timeout does not fire
    for sock in (before, during):
        sock.sendall(b"lost")
        assert silent(sock)
    proxy.restore()
    for sock in (before, during):  # their conversations are gone for good: still silent
        sock.sendall(b"after")
        assert silent(sock)
    with connect(proxy.port) as after:
        assert echoes(after)
    before.close()
    during.close()
    wait_until(lambda: proxy.open_connections == 0, 5, "connections left open")


def test_a_cut_closes_every_connection_and_refuses_new_ones(proxy):
    sock = connect(proxy.port)
    assert echoes(sock)
    proxy.cut()
    assert sock.recv(1) == b""
    with connect(proxy.port) as refused:
        assert refused.recv(1) == b""
    proxy.restore()
    with connect(proxy.port) as again:
        assert echoes(again)


@pytest.fixture
def limited_proxy(echo) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """The proxy in a process of its own whose open-file limit is FILE_LIMIT."""
    script = (
        "import resource, sys\n"
        "from tests.integration.faults.tcp_proxy import TcpProxy\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({FILE_LIMIT}, "
        "resource.getrlimit(resource.RLIMIT_NOFILE)[1]))\n"
        f"proxy = TcpProxy(('127.0.0.1', {echo[1]}))\n"
        "print(proxy.port, flush=True)\n"
        "sys.stdin.read()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    yield int(process.stdout.readline()), process
    process.kill()
    process.wait()


def test_many_more_connections_than_the_open_file_limit_one_after_another(limited_proxy):
    port, _ = limited_proxy
    for _ in range(FILE_LIMIT * 4):  # two sockets each if never closed: the limit, 8 times
        with connect(port) as sock:
            assert echoes(sock)


def test_at_the_open_file_limit_it_says_so_and_serves_again_once_sockets_close(limited_proxy):
    port, process = limited_proxy
    held = [connect(port) for _ in range(FILE_LIMIT)]  # past the limit: some wait unaccepted
    answered = [echoes(sock) for sock in held[: FILE_LIMIT // 4]]
    assert all(answered)
    said = _line(process, seconds=10)  # before any socket closes: the limit is reached
    assert "cannot accept" in said or "cannot reach" in said
    for sock in held:
        sock.close()
    with connect(port) as sock:
        assert echoes(sock)


def _line(process: subprocess.Popen[str], seconds: float) -> str:
    """The next line the process writes to stderr, or "" after ``seconds``."""
    assert process.stderr is not None
    ready, _, _ = select.select([process.stderr], [], [], seconds)
    return process.stderr.readline() if ready else ""


def _read(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := sock.recv(size - len(data))):
        data += chunk
    return data
