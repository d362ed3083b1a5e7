"""One monitor's connection as the server sees it: its socket, decoder, output queue, counters.

The output queue is bounded in bytes. Live records that would overflow it are dropped and
counted instead of queued, so a monitor that stops reading costs the pool a length check per
flush and nothing else; the next frame it does get starts after the hole, which is how the
monitor sees the loss. Replies, errors and the one-off backfill are always queued (they are
bounded by the history size and by what the monitor itself asked for).
"""

from __future__ import annotations

import socket
import struct
from collections import deque
from itertools import islice
from typing import Final

from poolmon.core.protocol import DEFAULT_MAX_FRAME_SIZE, Decoder, Frame, Subscribe, encode
from poolmon.runtime.endpoint.spill import SPILL_AFTER, Spill

HELLO: Final = "hello"
"""Waiting for the monitor's HELLO."""
READY: Final = "ready"
"""Handshake done; commands allowed; no stream until SUBSCRIBE."""
LIVE: Final = "live"
"""Receiving live records."""
CLOSING: Final = "closing"
"""Sending its last frames (an ERROR or CLOSE), then closed."""

_PEERCRED = struct.Struct("3i")
_IOV_MAX: Final = 512


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """`(pid, uid, gid)` of the process at the other end of a Unix socket (SO_PEERCRED)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    pid, uid, gid = _PEERCRED.unpack(raw)
    return pid, uid, gid


def subscription_key(sub: Subscribe) -> tuple[tuple[str, ...], bool]:
    """Connections with equal keys receive identical live records (so they share encoded bytes).

    A live-rollups subscription gets no live task records (its tasks come as ROLLUPS).
    """
    prefixes = ("",) if "" in sub.events else tuple(sorted(set(sub.events)))
    return prefixes, sub.tasks and sub.live_tasks == "rows"


def live_rollups(sub: Subscribe) -> bool:
    """Whether `sub` takes its live tasks as one ROLLUPS frame per closed second."""
    return sub.tasks and sub.live_tasks == "rollups"


def matches(prefixes: tuple[str, ...], name: str) -> bool:
    """Whether an event name falls under one of the subscription's dotted prefixes."""
    return any(not prefix or name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


class Connection:
    """Server-side state of one monitor connection (used only by the server thread)."""

    __slots__ = (
        "client",
        "closing_deadline",
        "decoder",
        "dropped_events",
        "dropped_records",
        "dropped_tasks",
        "gap",
        "key",
        "live_rollups",
        "max_frame_size",
        "opened_ns",
        "out",
        "out_bytes",
        "packed_rollups",
        "peer_eof",
        "peer_pid",
        "peer_uid",
        "read_only",
        "sent_end",
        "sock",
        "spill",
        "state",
    )

    def __init__(
        self, sock: socket.socket, peer_pid: int, peer_uid: int, opened_ns: int, max_frame: int
    ) -> None:
        self.sock = sock
        self.peer_pid = peer_pid
        self.peer_uid = peer_uid
        self.opened_ns = opened_ns
        self.decoder = Decoder(max_frame)
        self.state = HELLO
        self.client = ""
        self.read_only = False
        self.max_frame_size = DEFAULT_MAX_FRAME_SIZE
        self.key: tuple[tuple[str, ...], bool] = ((), False)
        self.live_rollups = False
        """Live tasks go to this monitor as closed seconds' rollups, not rows."""
        self.packed_rollups = False
        """ROLLUPS go to this monitor with packed histograms (rollup wire version 2)."""
        self.out: deque[bytes | memoryview] = deque()
        self.out_bytes = 0
        self.spill = Spill()
        """A backlog's small frames, in mappings of their own (`spill`)."""
        self.sent_end = 0
        self.gap = False
        self.dropped_records = 0
        self.dropped_tasks = 0
        self.dropped_events = 0
        self.closing_deadline = 0
        self.peer_eof = False
        """The peer shut its side down (it may still read what is queued to it)."""

    def queue(self, *parts: bytes) -> None:
        """Append already-encoded bytes to the output queue (unconditionally).

        Behind a backlog of `SPILL_AFTER` bytes they are copied into mapped blocks (`spill`).
        """
        for part in parts:
            if part:
                if self.out_bytes >= SPILL_AFTER or self.spill.open:
                    self.spill.add(self.out, part)
                else:
                    self.out.append(part)
                self.out_bytes += len(part)

    def queue_frame(self, frame: Frame) -> None:
        """Encode and queue one frame."""
        self.queue(encode(frame))

    def drop(self, records: int, task_rows: int, events: int) -> None:
        """Count records not delivered; the next frame sent will show the hole."""
        self.dropped_records += records
        self.dropped_tasks += task_rows
        self.dropped_events += events
        self.gap = True

    def flush(self) -> bool:
        """Write as much queued output as the socket takes now; True when all is written.

        Raises:
            OSError: The peer is gone (the caller closes the connection).
        """
        out = self.out
        if not out:
            self.spill.seal(out)
        while out:
            try:
                sent = self.sock.sendmsg(list(islice(out, _IOV_MAX)))
            except (BlockingIOError, InterruptedError):
                return False
            self.out_bytes -= sent
            while sent:
                head = out[0]
                if len(head) <= sent:
                    sent -= len(head)
                    out.popleft()
                else:
                    out[0] = memoryview(head)[sent:]
                    sent = 0
            if not out:
                self.spill.seal(out)  # the open block goes out last
        return True
