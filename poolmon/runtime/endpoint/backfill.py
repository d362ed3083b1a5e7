"""What a monitor receives between SUBSCRIBE and the live stream: a resume or a backfill.

A reconnecting monitor names the sequence number it stopped at; if history still holds every
record from there, it gets exactly those records and carries on as if it never left. Otherwise
(or on a first attach) it gets the full backfill: closed per-second rollups, then the held
events and the raw task rows of the seconds the rollups do not cover, then HISTORY_END with
the first live sequence number. See docs/PROTOCOL.md, "History".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from poolmon.core.protocol import HistoryEnd, Subscribe
from poolmon.runtime.endpoint import fanout
from poolmon.runtime.endpoint.connection import Connection, subscription_key
from poolmon.runtime.endpoint.fitting import queue_batch, queue_rollups
from poolmon.runtime.endpoint.history import History, Record

ROLLUPS_PER_FRAME: Final = 120
"""Rollups per ROLLUPS frame (a rollup packs to a few hundred bytes)."""


def _queue_records(
    conn: Connection, records: Sequence[tuple[int, Record]], lo: int, hi: int
) -> None:
    """Queue `records` (within [lo, hi)) filtered for `conn`, whatever its buffer holds."""
    if hi <= lo:
        return
    chunk_bytes = min(fanout.CHUNK_BYTES, conn.max_frame_size // 2)
    for chunk in fanout.split(records, lo, hi, conn.key, chunk_bytes):
        if chunk.records:
            queue_batch(conn, chunk.lo, chunk.hi, chunk.events, chunk.tasks, chunk.pack())


def send_history(conn: Connection, sub: Subscribe, history: History) -> int:
    """Queue the resume or backfill `sub` asks for; returns the first live sequence number."""
    conn.key = subscription_key(sub)
    live = history.next_seq
    lost = 0
    if sub.resume_seq is not None:
        held = history.resume(sub.resume_seq)
        if held is not None:
            _queue_records(conn, held, sub.resume_seq, live)
            conn.queue_frame(HistoryEnd(live, 0, resumed=True, lost=0))
            return live
        lost = max(0, min(history.oldest_seq, live) - sub.resume_seq)
    if not sub.history:
        conn.queue_frame(HistoryEnd(live, 0, resumed=False, lost=lost))
        return live
    backfill = history.backfill()
    if sub.tasks:
        wires = backfill.rollups
        for i in range(0, len(wires), ROLLUPS_PER_FRAME):
            queue_rollups(conn, wires[i : i + ROLLUPS_PER_FRAME], backfill.until_s)
    if backfill.records:
        _queue_records(conn, backfill.records, backfill.records[0][0], live)
    conn.queue_frame(HistoryEnd(live, backfill.until_s if sub.tasks else 0, False, lost))
    return live
