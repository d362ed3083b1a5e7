"""Live rollups: each closed second, once, to every monitor that asked for them.

Why: a monitor that only exports counters (the headless watcher, Prometheus behind it) has
no use for one row per task, yet decoding and counting rows was nearly all it cost, and the
pool's endpoint paid to pack and write every row to it. The pool already closes one rollup
per second (`History.tick`) for its own history; sending it to a monitor that subscribed with
`live_tasks="rollups"` costs one small frame a second, whatever the task rate. A frame goes
out at every tick (about once a second), with no rollups when no second with tasks closed, so
its `until_s` tells the monitor that every task before that second is counted. The frame is
encoded once and shared by every such monitor (split only for one whose `max_frame_size` it
exceeds). A monitor whose output queue is full loses the frame like a live record: the
rollups' seconds count as dropped records and their tasks as dropped task rows in its
HEARTBEAT, and the pool never waits. docs/PROTOCOL.md, "Live rollups".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from poolmon.core.protocol import Rollups
from poolmon.core.protocol.codec import encode
from poolmon.core.rollup import Rollup
from poolmon.runtime.endpoint.connection import LIVE, Connection
from poolmon.runtime.endpoint.fitting import queue_rollups
from poolmon.runtime.endpoint.history import History


def send_live_rollups(
    conns: Iterable[Connection], closed: Sequence[Rollup], history: History, limit: int
) -> list[Connection]:
    """Queue the just-closed seconds to every live-rollups monitor; returns those queued to.

    Args:
        conns: The server's connections (others than live, live-rollups ones are skipped).
        closed: The rollups `History.tick` just closed, oldest first.
        history: The pool's history (the frame's `until_s` is its first open second).
        limit: The per-connection output bound (`EndpointServer.out_buffer_bytes`).
    """
    frames: dict[bool, tuple[bytes, tuple[dict[str, object], ...]]] = {}
    until_s = history.rollups_until_s
    queued = []
    for conn in conns:
        if conn.state != LIVE or not conn.live_rollups:
            continue
        if conn.out_bytes >= limit:
            conn.dropped_records += len(closed)
            conn.dropped_tasks += sum(r.count for r in closed)
            continue
        packed = conn.packed_rollups  # each form encoded once, shared by its monitors
        if packed not in frames:
            wires = tuple(r.to_wire(packed) for r in closed)
            frames[packed] = encode(Rollups(wires, until_s)), wires
        frame, wires = frames[packed]
        if len(frame) - 4 <= conn.max_frame_size:
            conn.queue(frame)
        else:
            queue_rollups(conn, wires, until_s)
        queued.append(conn)
    return queued
