"""A TCP proxy on loopback that a test can cut, stall or turn into a black hole, to fail a real
connection the ways a network fails.

Modes, switched at run time:

- pass (``restore()``): bytes flow both ways.
- cut (``cut()``): every connection is closed, new ones are closed as they arrive (a server
  that went away: the client sees it at once).
- stall (``stall()``): connections stay open and new ones are accepted, but no byte moves
  either way; on ``restore()`` what was held flows on (a frozen server, a saturated link).
- black hole (``black_hole()``): connections are accepted and never answered: what any
  connection sends is dropped, so the conversations open then are lost for good (they stay
  open and silent, as behind a load balancer whose target vanished); after ``restore()``
  only new connections pass.

Every socket is closed when its conversation ends, and an accept that fails (the open-file
limit) is logged and retried, never the end of the proxy.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from dataclasses import dataclass, field
from enum import Enum

log = logging.getLogger(__name__)
ACCEPT_RETRY_SECONDS = 0.05


class Mode(Enum):
    PASS = "pass"
    CUT = "cut"
    STALL = "stall"
    BLACK_HOLE = "black hole"


@dataclass(eq=False)
class _Connection:
    client: socket.socket
    upstream: socket.socket | None = None
    lost: bool = False  # its bytes were dropped: it never passes traffic again
    ends: int = 0  # directions finished; at 2 the sockets are closed
    sockets: list[socket.socket] = field(default_factory=list)


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target`` (see the module's doc for the modes)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._connections: set[_Connection] = set()
        self._changed = threading.Condition()
        self._mode = Mode.PASS
        self._closed = False
        self.accept_errors = 0  # accepts that failed (and were retried)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def open_connections(self) -> int:
        with self._changed:
            return len(self._connections)

    def cut(self) -> None:
        self._switch(Mode.CUT)
        with self._changed:
            for connection in list(self._connections):
                self._close(connection)

    def stall(self) -> None:
        self._switch(Mode.STALL)

    def black_hole(self) -> None:
        self._switch(Mode.BLACK_HOLE)

    def restore(self) -> None:
        self._switch(Mode.PASS)

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()

    def _switch(self, mode: Mode) -> None:
        with self._changed:
            self._mode = mode
            self._changed.notify_all()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError as error:
                if self._closed:
                    return
                self.accept_errors += 1  # e.g. EMFILE: wait for sockets to be closed
                log.warning("proxy to %s cannot accept: %s; retrying", self.target, error)
                with self._changed:
                    self._changed.wait(ACCEPT_RETRY_SECONDS)
                continue
            connection = _Connection(client, sockets=[client])
            with self._changed:
                if self._mode is Mode.CUT:
                    client.close()
                    continue
                self._connections.add(connection)
            threading.Thread(target=self._open, args=(connection,), daemon=True).start()

    def _open(self, connection: _Connection) -> None:
        """Connect upstream once traffic may pass (at once, or after a stall), then pump."""
        if self._await_passing(connection) is not Mode.PASS:
            self._drop(connection, connection.client)
            return
        try:
            upstream = socket.create_connection(self.target, timeout=10)
            upstream.settimeout(None)
        except OSError as error:  # the target refuses: so does the proxy
            log.warning("proxy cannot reach %s: %s", self.target, error)
            with self._changed:
                self._close(connection)
            return
        with self._changed:
            connection.upstream = upstream
            connection.sockets.append(upstream)
            if connection not in self._connections:  # cut meanwhile
                self._close(connection)
                return
        threading.Thread(
            target=self._pump, args=(connection, upstream, connection.client), daemon=True
        ).start()
        self._pump(connection, connection.client, upstream)

    def _await_passing(self, connection: _Connection) -> Mode:
        """The mode once it is no longer a stall (the connection is held meanwhile)."""
        with self._changed:
            while self._mode is Mode.STALL and connection in self._connections:
                self._changed.wait()
            return Mode.CUT if connection not in self._connections else self._mode

    def _pump(self, connection: _Connection, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if self._await_passing(connection) is not Mode.PASS or connection.lost:
                    self._lose(connection)
                    if source is connection.client:
                        self._drop(connection, source)
                    return
                sink.sendall(data)
        if not connection.lost:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)  # the end of one direction, passed on
        self._end(connection, source)

    def _lose(self, connection: _Connection) -> None:
        """The connection's bytes are being dropped: its server side is closed (the server
        gives up on it), its client is left waiting for an answer that never comes."""
        with self._changed:
            connection.lost = True
            if connection.upstream is not None:
                with contextlib.suppress(OSError):
                    connection.upstream.shutdown(socket.SHUT_RDWR)

    def _drop(self, connection: _Connection, source: socket.socket) -> None:
        """Read and drop whatever the client sends until it hangs up."""
        connection.lost = True
        with contextlib.suppress(OSError):
            while source.recv(65536):
                pass
        with self._changed:
            self._close(connection)

    def _end(self, connection: _Connection, source: socket.socket) -> None:
        """One direction ended: both sockets are closed once both have, or once the client
        of a lost connection hangs up (it is never told anything before)."""
        with self._changed:
            connection.ends += 1
            if connection.ends >= 2 or (connection.lost and source is connection.client):
                self._close(connection)

    def _close(self, connection: _Connection) -> None:
        """Close both sockets (with the lock held) and forget the connection."""
        self._connections.discard(connection)
        for sock in connection.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._changed.notify_all()
