"""The image's HEALTHCHECK (frameforge/healthcheck.py) asks /health on the port that a process
of its own container listens on, whatever that port is."""

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from frameforge import healthcheck
from tests.helpers import free_port


def _server(status: int, family: int = socket.AF_INET) -> Iterator[int]:
    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        address_family = family

    server = Server(("::" if family == socket.AF_INET6 else "0.0.0.0", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api_port() -> Iterator[int]:
    yield from _server(200)


def test_it_finds_the_port_its_own_process_listens_on(api_port):
    found = healthcheck.listening([os.getpid()])
    assert ("127.0.0.1", api_port) in found  # 0.0.0.0: asked on loopback
    assert healthcheck.healthy("127.0.0.1", api_port)


def test_a_socket_of_another_process_is_not_its_own(api_port):
    other = subprocess.Popen(["sleep", "30"])
    try:
        assert healthcheck.listening([other.pid]) == []
    finally:
        other.kill()
        other.wait()


def test_an_ipv6_listener_is_found_and_asked_over_ipv6():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    for port in _server(200, socket.AF_INET6):
        assert ("::1", port) in healthcheck.listening([os.getpid()])
        assert healthcheck.healthy("::1", port)


def test_an_answer_other_than_200_is_unhealthy():
    for port in _server(503):
        assert not healthcheck.healthy("127.0.0.1", port)


def test_nothing_listening_is_unhealthy():
    assert not healthcheck.healthy("127.0.0.1", free_port())
