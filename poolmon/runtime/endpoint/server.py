"""The monitor endpoint: a Unix-socket server thread inside the pool process.

Why it is shaped like this:

* The pool must never wait on a monitor. The telemetry handlers the server attaches only append
  to a bounded in-memory inbox (drop and count when full) and, at most once per flush, write one
  byte to a wake-up pipe. Everything else (numbering, history, encoding, socket writes) happens
  in the server's own thread.
* One `selectors` loop in one thread serves every monitor. It was chosen over asyncio because
  the work per wake-up is a handful of non-blocking calls; an event loop would add a layer per
  write without removing any (`python -m poolmon.bench endpoint` measures the result).
* Flushes are coalesced: after a flush the next one waits at least `flush_interval_s` (and
  `idle_flush_interval_s` while nobody is connected), so at high task rates frames carry many
  batches and the loop wakes at most a few hundred times a second, not once per batch.
* Each connection has a bounded output queue (`connection.Connection`); a monitor that stops
  reading loses records, both sides count them, and nobody else notices.

The socket protocol is in docs/PROTOCOL.md; `poolmon.core.protocol` encodes and decodes it.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from poolmon.core.catalog import CATALOG_VERSION, ERROR
from poolmon.core.events import TaskBatch
from poolmon.core.protocol import (
    DEFAULT_MAX_FRAME_SIZE,
    PROTOCOL_VERSION,
    Close,
    Command,
    Error,
    Heartbeat,
    Hello,
    Reply,
    Subscribe,
    Welcome,
)
from poolmon.runtime.endpoint import cleanup, fanout
from poolmon.runtime.endpoint.backfill import send_history
from poolmon.runtime.endpoint.connection import (
    CLOSING,
    HELLO,
    LIVE,
    READY,
    Connection,
    subscription_key,
)
from poolmon.runtime.endpoint.control import CommandHandler, Limits, PoolControl
from poolmon.runtime.endpoint.fitting import MIN_MAX_FRAME_SIZE
from poolmon.runtime.endpoint.history import History, Record
from poolmon.runtime.endpoint.inbox import Inbox
from poolmon.runtime.endpoint.paths import BoundSocket, bind_listener, socket_path
from poolmon.runtime.endpoint.rollup_stream import send_live_rollups
from poolmon.runtime.endpoint.server_figures import ServerFigures
from poolmon.runtime.endpoint.sockets import SocketIO
from poolmon.runtime.insight import Insight
from poolmon.runtime.telemetry import DEFAULT_TELEMETRY, Telemetry

_LISTENER: Final = "listener"
_WAKE: Final = "wake"
_HANDSHAKE_TIMEOUT_NS: Final = 10 * 10**9
TICK_PHASE_NS: Final = 50_000_000
"""Ticks run this long after history's close grace has passed a wall-clock second."""
_DRAIN_MAX: Final = 20_000  # records numbered per flush, so one flush never hogs the GIL


class EndpointServer(SocketIO, ServerFigures):
    """Serve a pool's telemetry, history and control on a Unix socket.

    Args:
        control: The pool (see `PoolControl`).
        telemetry: Registry to listen on and to emit control events to (default: the
            process-wide one).
        path: Socket path (default `paths.socket_path(control.name)`).
        allow_uids: User ids allowed to connect (default: only our own).
        limits: Safe ranges for control commands.
        history: The history store (default: 16 minutes of rollups, 16 MiB of raw batches).
        out_buffer_bytes: Per-connection output bound; live records beyond it are dropped.
        inbox_limit: Records waiting for the server thread; more are dropped and counted.
        heartbeat_interval_s: Heartbeat period (also the rollup-closing tick).
        flush_interval_s: Minimum time between two flushes (coalescing).
        idle_flush_interval_s: The same while no monitor is connected (records only go to
            history then; an inbox a quarter full is flushed at once either way).
        max_monitors: Connections accepted at once.
        insight: The pool's own aggregator and per-second hooks (alerting, auto-tuning), fed
            from this server's thread; a fresh one by default (`poolmon.runtime.insight`).
    """

    def __init__(
        self,
        control: PoolControl,
        telemetry: Telemetry | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        allow_uids: set[int] | frozenset[int] | None = None,
        limits: Limits | None = None,
        history: History | None = None,
        out_buffer_bytes: int = 8 * 1024 * 1024,
        inbox_limit: int = 50_000,
        heartbeat_interval_s: float = 1.0,
        flush_interval_s: float = 0.005,
        idle_flush_interval_s: float = 0.1,
        max_monitors: int = 64,
        insight: Insight | None = None,
    ) -> None:
        self._control = control
        self._telemetry = telemetry if telemetry is not None else DEFAULT_TELEMETRY
        self.path = Path(path) if path is not None else socket_path(control.name)
        self.allow_uids = (
            frozenset(allow_uids) if allow_uids is not None else frozenset({os.getuid()})
        )
        self.history = history or History()
        self.out_buffer_bytes = out_buffer_bytes
        self._inbox_limit = inbox_limit
        self._inbox: Inbox | None = None
        self._heartbeat_ns = int(heartbeat_interval_s * 1e9)
        self._flush_ns = int(flush_interval_s * 1e9)
        self._idle_flush_ns = max(int(idle_flush_interval_s * 1e9), self._flush_ns)
        self._max_monitors = max_monitors
        self.insight = insight if insight is not None else Insight()
        """The pool's own aggregator and its once-a-second hooks."""
        self._commands = CommandHandler(control, self._telemetry.emit, self._status, limits)
        self._handler_id = f"poolmon.endpoint.{id(self):x}"
        self._stopping = False
        self._conns: dict[int, Connection] = {}
        self._bound: BoundSocket | None = None
        self._thread: threading.Thread | None = None
        self._sel: selectors.BaseSelector | None = None
        self.records_sent = 0
        """Records queued to monitors, summed over connections."""
        self.internal_errors = 0
        """Exceptions caught in the server loop (each reported as a poolmon.error event)."""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> EndpointServer:
        """Bind the socket, attach to telemetry and start the server thread; returns self.

        Raises:
            ConfigError: The socket cannot be created (see `paths.bind_listener`).
        """
        if self._thread is not None:
            raise RuntimeError("EndpointServer already started")
        self._bound = bind_listener(self.path)
        cleanup.register(self._bound)
        self._inbox = inbox = Inbox(self._inbox_limit)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._bound.sock, selectors.EVENT_READ, _LISTENER)
        self._sel.register(inbox, selectors.EVENT_READ, _WAKE)
        self._telemetry.attach(self._handler_id, "", inbox.on_event)
        self._telemetry.attach_batch(self._handler_id + ".tasks", inbox.on_batch)
        self._thread = threading.Thread(target=self._run, name="poolmon-endpoint", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout_s: float = 5.0) -> None:
        """Say goodbye to every monitor, stop the thread, remove the socket file. Idempotent."""
        if self._thread is None or self._stopping:
            return
        self._telemetry.detach(self._handler_id)
        self._telemetry.detach(self._handler_id + ".tasks")
        self._stopping = True
        if self._inbox is not None:
            self._inbox.wake()
        self._thread.join(timeout_s)

    def __enter__(self) -> EndpointServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def commands(self) -> CommandHandler:
        """The endpoint's commands; services add theirs with `register` (alerting, tuning).

        Commands run in the server's thread, the same one that runs the insight hooks, so a
        service whose hook and commands share state needs no lock.
        """
        return self._commands

    # ------------------------------------------------------------------ the loop
    def _run(self) -> None:
        assert self._sel is not None
        assert self._inbox is not None
        sel, inbox = self._sel, self._inbox
        next_tick = self._next_tick_ns(time.monotonic_ns())
        last_flush = 0
        pending = False
        try:
            while not self._stopping:
                # Nobody connected: records only go to history, so flush less often (fewer
                # wake-ups competing with the pool for the GIL). A monitor connecting wakes
                # the loop through the listener, and the short interval applies again.
                flush_ns = self._flush_ns if self._conns else self._idle_flush_ns
                now = time.monotonic_ns()
                wait_ns = next_tick - now
                if pending:
                    wait_ns = min(wait_ns, last_flush + flush_ns - now)
                for key, mask in sel.select(max(wait_ns, 0) / 1e9):
                    if key.data is _LISTENER:
                        self._accept()
                    elif key.data is _WAKE:
                        inbox.clear_wakeups()
                        pending = True
                    else:
                        self._service(key.data, mask)
                now = time.monotonic_ns()
                if pending and (now - last_flush >= flush_ns or len(inbox) >= inbox.early_wake):
                    last_flush = now
                    pending = False
                    pending = self._guarded(self._flush, "flush")
                if now >= next_tick:
                    next_tick = self._next_tick_ns(now)
                    self._guarded(self._tick, "tick")
        finally:
            self._shutdown()

    def _next_tick_ns(self, now_mono_ns: int) -> int:
        """The monotonic time of the next tick: `TICK_PHASE_NS` past a wall-clock period.

        Ticks close history's seconds and run the insight hooks (alerting). Phase-locking them
        to the wall clock just after each second's close grace means a second's tasks reach
        the alert engine in the tick right after they can, not up to a period later: a
        failure is evaluated 0.6-1.6 s after it happened rather than 2.5-4 s.
        """
        period = self._heartbeat_ns
        wall = time.time_ns()
        phase = (self.history.close_grace_ns + TICK_PHASE_NS) % period
        wall_next = wall - (wall - phase) % period + period
        return now_mono_ns + (wall_next - wall)

    def _guarded(self, step: Callable[[], Any], what: str) -> Any:
        """Run one step of the loop; a bug in it is reported, and the endpoint keeps serving."""
        try:
            return step()
        except Exception as exc:
            self._report(exc, what)
            return False

    def _report(self, exc: Exception, what: str) -> None:
        self.internal_errors += 1
        self._telemetry.emit(
            ERROR,
            {"count": 1},
            {
                "pool": self._control.name,
                "category": "endpoint",
                "severity": "error",
                "error_type": type(exc).__qualname__,
                "message": f"endpoint {what} failed: {exc}",
                "worker_id": None,
                "traceback": "".join(traceback.format_exception(exc)),
            },
        )

    def _flush(self) -> bool:
        """Number the inbox's records, keep them in history, queue them to monitors.

        Returns True when records are left for another flush (the per-flush cap was hit).
        """
        assert self._inbox is not None
        history = self.history
        records: list[tuple[int, Record]] = [
            (
                history.add_tasks(item) if isinstance(item, TaskBatch) else history.add_event(item),
                item,
            )
            for item in self._inbox.take(_DRAIN_MAX)
        ]
        history.commit()
        self.insight.on_events(item for _, item in records if not isinstance(item, TaskBatch))
        if records:
            self._fan_out(records)
        return bool(len(self._inbox))

    def _fan_out(self, records: list[tuple[int, Record]]) -> None:
        lo, hi = records[0][0], records[-1][0] + 1
        by_key: dict[tuple[tuple[str, ...], bool], list[fanout.Chunk]] = {}
        for conn in list(self._conns.values()):
            if conn.state != LIVE:
                continue
            chunks = by_key.get(conn.key)
            if chunks is None:
                chunks = by_key[conn.key] = fanout.split(records, lo, hi, conn.key)
            before = conn.sent_end
            fanout.deliver(conn, chunks, self.out_buffer_bytes)
            if conn.sent_end != before:
                self.records_sent += sum(c.records for c in chunks)
            self._write(conn)

    def _tick(self) -> None:
        now_wall = time.time_ns()
        closed = self.history.tick(now_wall)
        send_live_rollups(self._conns.values(), closed, self.history, self.out_buffer_bytes)
        for failure in self.insight.on_second(now_wall, closed):
            self._report(failure.error, f"insight hook {failure.name!r}")
        now = time.monotonic_ns()
        for conn in list(self._conns.values()):
            if conn.state == HELLO and now - conn.opened_ns > _HANDSHAKE_TIMEOUT_NS:
                self._fail(conn, "unexpected", "no HELLO within 10 s")
            elif conn.state == CLOSING and now > conn.closing_deadline:
                self._drop_conn(conn)
            elif conn.state == LIVE and conn.out_bytes < self.out_buffer_bytes:
                conn.queue_frame(
                    Heartbeat(
                        time.time_ns(),
                        self.history.next_seq,
                        conn.dropped_records,
                        conn.dropped_tasks,
                        conn.dropped_events,
                    )
                )
                self._write(conn)

    # ------------------------------------------------------------------ connections
    def _handle(self, conn: Connection, frame: object) -> None:
        if conn.state == HELLO:
            if not isinstance(frame, Hello):
                self._fail(conn, "unexpected", f"expected HELLO, got {type(frame).__name__}")
            elif frame.version != PROTOCOL_VERSION:
                self._fail(
                    conn,
                    "version",
                    f"client speaks protocol version {frame.version}; this pool speaks "
                    f"{PROTOCOL_VERSION}",
                )
            elif frame.max_frame_size < MIN_MAX_FRAME_SIZE:
                self._fail(
                    conn,
                    "protocol",
                    f"max_frame_size {frame.max_frame_size} is below the minimum of "
                    f"{MIN_MAX_FRAME_SIZE} bytes",
                )
            else:
                self._welcome(conn, frame)
        elif isinstance(frame, Subscribe):
            conn.key = subscription_key(frame)
            conn.sent_end = send_history(conn, frame, self.history)
            conn.gap = False
            conn.state = LIVE
        elif isinstance(frame, Command):
            outcome = self._commands.run(
                frame.name,
                frame.args,
                read_only=conn.read_only,
                peer_pid=conn.peer_pid,
                peer_uid=conn.peer_uid,
                client=conn.client,
            )
            conn.queue_frame(Reply(frame.id, outcome.ok, outcome.result, outcome.reason))
        elif isinstance(frame, Close | Error):  # the client's goodbye, orderly or fatal
            self._drop_conn(conn)
            return
        elif not isinstance(frame, Heartbeat):
            self._fail(conn, "unexpected", f"a client may not send {type(frame).__name__}")
            return
        self._write(conn)

    def _welcome(self, conn: Connection, hello: Hello) -> None:
        conn.client = hello.client
        conn.read_only = hello.read_only
        conn.max_frame_size = hello.max_frame_size
        conn.state = READY
        conn.queue_frame(
            Welcome(
                pool=self._control.name,
                pid=os.getpid(),
                host=socket.gethostname(),
                started_at_ns=self._control.started_at_ns,
                catalog_version=CATALOG_VERSION,
                max_frame_size=DEFAULT_MAX_FRAME_SIZE,
                heartbeat_interval_ns=self._heartbeat_ns,
                next_seq=self.history.next_seq,
                oldest_seq=self.history.oldest_seq,
                read_only=conn.read_only,
            )
        )

    def _shutdown(self) -> None:
        assert self._sel is not None
        for conn in list(self._conns.values()):
            conn.queue_frame(Close("shutdown"))
            try:
                conn.flush()
            except OSError:
                pass
            self._drop_conn(conn)
        if self._bound is not None:
            cleanup.unregister(self._bound)
            self._bound.unlink()
            self._bound.sock.close()
        self._sel.close()
        if self._inbox is not None:
            self._inbox.close()
