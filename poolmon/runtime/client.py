"""A blocking monitor client for a pool's endpoint, safe to share between two threads.

The terminal app runs `MonitorClient` (or `ReconnectingClient`) in a worker thread that iterates
frames into the aggregator, while the UI thread sends commands. Only one thread reads the socket
at a time: a `command()` call made while another thread iterates waits for that thread to hand
the reply over; a `command()` with nobody iterating reads the socket itself and keeps any
other frames for the next `recv()`. The bytes go through the sans-IO codec
(`poolmon.core.protocol`); this module only moves them. Staying attached across
disconnections is `poolmon.runtime.reconnecting`, whose names are re-exported here.

Loss accounting: after HISTORY_END every BATCH should start where the previous one ended; the
difference, when positive, is added to `lost_records` (an upper bound: it includes records the
subscription filtered out). The server's exact counts arrive in heartbeats (`server_dropped`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from poolmon.core.errors import ConnectionFailed, ProtocolError
from poolmon.core.protocol import (
    DEFAULT_MAX_FRAME_SIZE,
    Batch,
    Close,
    Command,
    Decoder,
    Error,
    Frame,
    FrameError,
    Heartbeat,
    Hello,
    HistoryEnd,
    Reply,
    Rollups,
    Subscribe,
    Welcome,
    encode,
)
from poolmon.runtime.locate import denied, refused
from poolmon.runtime.peer import pool_pid, process_state, silent_pool
from poolmon.runtime.reconnecting import Backoff, Disconnected, ReconnectingClient

__all__ = ["Backoff", "Disconnected", "MonitorClient", "ReconnectingClient"]


_READ_SIZE: Final = 256 * 1024


class MonitorClient:
    """One connection to a pool's endpoint.

    Args:
        path: The pool's socket path.
        read_only: Ask for a connection that cannot change the pool.
        events: Event-name prefixes to receive (`""`: all; empty: none).
        tasks: Receive task batches.
        history: Receive the history backfill on subscribe.
        client: Name reported to the pool.
        timeout_s: Connect, handshake and default command timeout.
        max_frame_size: Largest frame accepted.
        live_tasks: `"rows"` (every task as a row) or `"rollups"` (one ROLLUPS frame per
            closed second instead; docs/PROTOCOL.md, "Live rollups").
        packed_rollups: Ask for ROLLUPS with packed histograms (docs/PROTOCOL.md, "Packed
            histograms"); a server without them sends int lists, which are read as well.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        events: tuple[str, ...] = ("",),
        tasks: bool = True,
        history: bool = True,
        client: str = "poolmon",
        timeout_s: float = 5.0,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        live_tasks: str = "rows",
        packed_rollups: bool = True,
    ) -> None:
        self.path = Path(path)
        self.live_tasks = live_tasks
        self.packed_rollups = packed_rollups
        self.read_only = read_only
        self.events = tuple(events)
        self.tasks = tasks
        self.history = history
        self.client = client
        self.timeout_s = timeout_s
        self.max_frame_size = max_frame_size
        self.welcome: Welcome | None = None
        self.peer_pid: int | None = None
        """The pool's pid at the socket's other end once connected (Linux; None through an ssh
        forward), for messages and `ls`."""
        """The pool's WELCOME, once connected."""
        self.resume_seq: int | None = None
        """Where a reconnection resumes: one past the last live record received.

        While a backfill or resume is still arriving it stays at the point this connection
        asked for (None: a full backfill), because a backfill cut off half-way cannot be
        resumed (its rollups and the raw rows after them describe the same batches); asking
        for the same point again gets a resume if it is still held, else a fresh backfill.
        """
        self.rollups_until_s: int | None = None
        """With live rollups: the first second whose rollup a resume must resend (the
        `until_s` of the last HISTORY_END or live ROLLUPS received; kept at the asked value
        while a resume is arriving, like `resume_seq`)."""
        self.lost_records = 0
        """Records missing between consecutive live batches (see the module docstring)."""
        self.server_dropped: Heartbeat | None = None
        """The last heartbeat, with the server's exact drop counts for this connection."""
        self._live_end: int | None = None
        self._sock: socket.socket | None = None
        self._decoder = Decoder(max_frame_size)
        self._pending: deque[Frame] = deque()
        self._replies: dict[int, Reply] = {}
        self._read_lock = threading.Lock()
        # Reads go into one kept buffer (the decoder copies each frame's bytes out of it): a
        # fresh `recv(256 KiB)` object per read is mapped and unmapped by glibc whenever the
        # mmap threshold is below its size, as the app pins it (runtime.heaptrim).
        self._read_buf = memoryview(bytearray(_READ_SIZE))
        self._send_lock = threading.Lock()
        self._cond = threading.Condition()
        self._next_id = 1
        self._closed_reason: str | None = None

    # ------------------------------------------------------------------ connecting
    def connect(
        self,
        *,
        subscribe: bool = True,
        resume_seq: int | None = None,
        rollups_since_s: int | None = None,
    ) -> Welcome:
        """Connect, shake hands and (by default) subscribe; returns the pool's WELCOME.

        Raises:
            ConnectionFailed: Nothing listens at the path, or the pool refused us.
            ProtocolError: The peer is not a poolmon endpoint or speaks another version.
        """
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout_s)
        try:
            sock.connect(os.fspath(self.path))
        except FileNotFoundError:
            sock.close()
            raise ConnectionFailed(f"no pool socket at {self.path}") from None
        except ConnectionRefusedError:  # "stale socket" (or "not a socket"): runtime.locate
            sock.close()
            raise ConnectionFailed(refused(Path(self.path))) from None
        except PermissionError:
            sock.close()
            raise ConnectionFailed(denied(Path(self.path))) from None
        except OSError as exc:
            sock.close()
            raise ConnectionFailed(f"cannot connect to {self.path}: {exc}") from None
        self._sock = sock
        self._closed_reason = None
        self.peer_pid = pool_pid(sock)
        hello = Hello(
            client=self.client,
            pid=os.getpid(),
            read_only=self.read_only,
            max_frame_size=self.max_frame_size,
        )
        self._send(encode(hello))
        frame = self._recv_one(self.timeout_s)
        if frame is None:
            self.close()
            pid = self.peer_pid
            state = None if pid is None else process_state(pid)
            raise ConnectionFailed(silent_pool(Path(self.path), pid, self.timeout_s, state))
        if not isinstance(frame, Welcome):
            self.close()
            raise ProtocolError(f"{self.path}: expected WELCOME, got {type(frame).__name__}")
        self.welcome = frame
        if subscribe:
            self.subscribe(resume_seq, rollups_since_s)
        return frame

    def subscribe(self, resume_seq: int | None = None, rollups_since_s: int | None = None) -> None:
        """Ask for the stream (with backfill or resume); frames arrive through `recv`."""
        self._live_end = None
        self.resume_seq = resume_seq
        self.rollups_until_s = rollups_since_s
        sub = Subscribe(
            self.events,
            self.tasks,
            self.history,
            resume_seq,
            self.live_tasks,
            rollups_since_s,
            self.packed_rollups,
        )
        self._send(encode(sub))

    def close(self) -> None:
        """Say goodbye (best effort) and close the socket. Idempotent."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        try:
            sock.settimeout(0.2)
            sock.sendall(encode(Close("client_exit")))
        except OSError:
            pass
        sock.close()

    def abort(self) -> None:
        """Shut the socket down without a goodbye, as a broken link would (`recv` then fails)."""
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> MonitorClient:
        if self._sock is None:
            self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        """Whether the socket is open."""
        return self._sock is not None

    # ------------------------------------------------------------------ receiving
    def recv(self, timeout_s: float | None = None) -> Frame | None:
        """The next frame other than a REPLY, or None if none came within `timeout_s`.

        Raises:
            ConnectionFailed: The connection ended (CLOSE, ERROR, EOF or a socket error).
            ProtocolError: The pool sent bytes that are not valid protocol.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            if self._pending:
                return self._pending.popleft()
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._read_lock.acquire(timeout=-1 if remaining is None else remaining):
                return None
            try:
                if not self._pending:
                    self._read_some(remaining)
            finally:
                self._read_lock.release()
            if not self._pending and deadline is not None and time.monotonic() >= deadline:
                return None

    def __iter__(self) -> Iterator[Frame]:
        """Frames until the pool closes the connection (then ConnectionFailed is raised)."""
        while True:
            frame = self.recv(None)
            if frame is not None:
                yield frame

    def command(
        self, name: str, args: Mapping[str, Any] | None = None, timeout_s: float | None = None
    ) -> Reply:
        """Send a command and wait for its REPLY (works with or without a reading thread).

        Raises:
            ConnectionFailed: Not connected, the connection dropped, or no reply in time.
        """
        with self._cond:
            cid = self._next_id
            self._next_id += 1
        self._send(encode(Command(cid, name, dict(args or {}))))
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        while True:
            with self._cond:
                if cid in self._replies:
                    return self._replies.pop(cid)
                if self._closed_reason is not None:
                    raise ConnectionFailed(f"{name}: connection lost ({self._closed_reason})")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConnectionFailed(f"{name}: no reply from the pool within the timeout")
            if self._read_lock.acquire(blocking=False):
                try:
                    self._read_some(min(remaining, 0.05))
                finally:
                    self._read_lock.release()
            else:
                with self._cond:
                    if cid not in self._replies:
                        self._cond.wait(min(remaining, 0.05))

    # ------------------------------------------------------------------ internals
    def _send(self, data: bytes) -> None:
        sock = self._sock
        if sock is None:
            raise ConnectionFailed(f"not connected to {self.path}")
        with self._send_lock:
            try:
                sock.sendall(data)
            except OSError as exc:
                raise ConnectionFailed(f"lost the connection to {self.path}: {exc}") from None

    def _recv_one(self, timeout_s: float) -> Frame | None:
        deadline = time.monotonic() + timeout_s
        while not self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with self._read_lock:
                self._read_some(remaining)
        return self._pending.popleft()

    def _read_some(self, timeout_s: float | None) -> None:
        """One socket read (caller holds the read lock); decoded frames are dispatched."""
        sock = self._sock
        if sock is None:
            raise ConnectionFailed(self._closed_reason or f"not connected to {self.path}")
        try:
            sock.settimeout(timeout_s)
            n = sock.recv_into(self._read_buf)
        except (TimeoutError, BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(f"socket error: {exc}")
        if not n:
            self._lost("the pool closed the connection")
        data = self._read_buf[:n]
        try:
            frames = self._frames_of(data)
        except FrameError as exc:
            if self.welcome is None:
                self._lost(
                    f"not a poolmon endpoint: what it sent first ({bytes(data[:24])!r}) is not a "
                    f"poolmon frame ({exc}); is this another program's socket?"
                )
            self._lost(f"invalid data from the pool: {exc}")
        for frame in frames:
            self._dispatch(frame)

    def _frames_of(self, data: bytes | memoryview) -> list[Frame]:
        """The frames received bytes complete (`RawMonitorClient` keeps BATCH bodies undecoded)."""
        return self._decoder.feed(data)

    def _dispatch(self, frame: Frame) -> None:
        if isinstance(frame, Reply):
            with self._cond:
                self._replies[frame.id] = frame
                self._cond.notify_all()
            return
        if isinstance(frame, Batch):
            if self._live_end is not None and frame.seq > self._live_end:
                self.lost_records += frame.seq - self._live_end
            if self._live_end is not None:
                self._live_end = max(self._live_end, frame.end)
                self.resume_seq = max(self.resume_seq or 0, frame.end)
        elif isinstance(frame, HistoryEnd):
            self._live_end = frame.live_seq
            self.resume_seq = frame.live_seq
            if self.live_tasks == "rollups":
                self.rollups_until_s = frame.rollups_until_s
        elif isinstance(frame, Rollups):
            if self._live_end is not None and self.rollups_until_s is not None:
                self.rollups_until_s = max(self.rollups_until_s, frame.until_s)
        elif isinstance(frame, Heartbeat):
            self.server_dropped = frame
        elif isinstance(frame, Error):
            if frame.code == "version":
                self._lost(f"pool refused: {frame.message}", ProtocolError)
            self._lost(f"pool refused: {frame.code}: {frame.message}")
        elif isinstance(frame, Close):
            self._lost(f"the pool closed the connection ({frame.reason})")
        self._pending.append(frame)

    def _lost(self, reason: str, kind: type[Exception] = ConnectionFailed) -> None:
        with self._cond:
            self._closed_reason = reason
            self._cond.notify_all()
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        raise kind(f"{self.path}: {reason}")
