"""The socket side of the endpoint server: accepting, reading, writing and dropping monitors.

Split out of `server.EndpointServer` (as a mixin it inherits) so each module holds one idea:
this one moves bytes between sockets and `Connection`s and never blocks (every socket is
non-blocking and watched by the server's selector); the server decides what the frames mean
(`_handle`) and what goes out. A failing connection is answered with an ERROR frame, then
half-closed and dropped, and nobody else notices.
"""

from __future__ import annotations

import selectors
import socket
import time
from typing import Final

from poolmon.core.protocol import DEFAULT_MAX_FRAME_SIZE, Error, FrameError
from poolmon.runtime.endpoint.connection import CLOSING, Connection, peer_credentials
from poolmon.runtime.endpoint.paths import BoundSocket

_READ_SIZE: Final = 256 * 1024
CLOSING_TIMEOUT_NS: Final = 2 * 10**9
"""How long a failed connection may take to read its ERROR frame before it is dropped."""


class SocketIO:
    """Accept, read, write and drop monitor connections (see the module docstring).

    The server provides the state below and `_handle` / `_report`.
    """

    _bound: BoundSocket | None
    _sel: selectors.BaseSelector | None
    _conns: dict[int, Connection]
    _max_monitors: int
    allow_uids: frozenset[int]

    def _handle(self, conn: Connection, frame: object) -> None:
        raise NotImplementedError

    def _report(self, exc: Exception, what: str) -> None:
        raise NotImplementedError

    def _accept(self) -> None:
        assert self._bound is not None
        assert self._sel is not None
        while True:
            try:
                sock, _ = self._bound.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            sock.setblocking(False)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
                pid, uid, _ = peer_credentials(sock)
            except OSError:
                sock.close()
                continue
            conn = Connection(sock, pid, uid, time.monotonic_ns(), DEFAULT_MAX_FRAME_SIZE)
            self._conns[sock.fileno()] = conn
            self._sel.register(sock, selectors.EVENT_READ, conn)
            if uid not in self.allow_uids:
                self._fail(conn, "forbidden", f"uid {uid} may not monitor this pool")
            elif len(self._conns) > self._max_monitors:
                self._fail(conn, "forbidden", f"already {self._max_monitors} monitors attached")

    def _service(self, conn: Connection, mask: int) -> None:
        if mask & selectors.EVENT_READ:
            try:
                data = conn.sock.recv(_READ_SIZE)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                self._drop_conn(conn)
                return
            if data == b"":
                self._peer_eof(conn)
                return
            if data and conn.state != CLOSING:
                try:
                    for frame in conn.decoder.feed(data):
                        self._handle(conn, frame)
                        if conn.state == CLOSING:
                            break
                except FrameError as exc:
                    self._fail(conn, exc.code, str(exc))
                except Exception as exc:  # a server bug must cost one connection, not all
                    self._report(exc, "connection")
                    self._fail(conn, "internal", f"{type(exc).__name__}: {exc}")
        if mask & selectors.EVENT_WRITE:
            self._write(conn)

    def _peer_eof(self, conn: Connection) -> None:
        """The peer closed or half-closed: drop it, after an ERROR if it cut a frame short.

        A peer that only half-closed can still read, so a frame cut short gets its
        `ERROR protocol` (docs/PROTOCOL.md section 7) before the connection is closed.
        """
        if conn.state == CLOSING or not conn.decoder.pending:
            self._drop_conn(conn)
            return
        try:
            conn.decoder.eof()
        except FrameError as exc:
            conn.peer_eof = True
            self._fail(conn, exc.code, f"truncated frame: {exc}")

    def _fail(self, conn: Connection, code: str, message: str) -> None:
        """Send ERROR, stop reading, close once it is written (or after a short grace)."""
        conn.queue_frame(Error(code, message))
        conn.state = CLOSING
        conn.closing_deadline = time.monotonic_ns() + CLOSING_TIMEOUT_NS
        self._write(conn)

    def _write(self, conn: Connection) -> None:
        assert self._sel is not None
        if conn.sock.fileno() not in self._conns:
            return  # already dropped
        try:
            done = conn.flush()
        except OSError:
            self._drop_conn(conn)
            return
        if done and conn.state == CLOSING and conn.peer_eof:
            self._drop_conn(conn)  # nothing more will come: the ERROR is written, close now
            return
        if done and conn.state == CLOSING:
            # Half-close and wait for the peer's EOF (or the deadline): closing outright with
            # its unread bytes pending would send RST and could destroy the ERROR frame.
            try:
                conn.sock.shutdown(socket.SHUT_WR)
            except OSError:
                self._drop_conn(conn)
                return
        # A peer at EOF stays readable forever: watch only for writability then.
        wanted = (0 if conn.peer_eof else selectors.EVENT_READ) | (
            0 if done else selectors.EVENT_WRITE
        )
        if self._sel.get_key(conn.sock).events != wanted:
            self._sel.modify(conn.sock, wanted, conn)

    def _drop_conn(self, conn: Connection) -> None:
        assert self._sel is not None
        conn.state = CLOSING
        if self._conns.pop(conn.sock.fileno(), None) is None:
            return
        try:
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()
