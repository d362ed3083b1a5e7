"""What a monitor receives between SUBSCRIBE and the live stream: a resume or a backfill.

A reconnecting monitor names the sequence number it stopped at; if history still holds every
record from there, it gets exactly those records and carries on as if it never left. Otherwise
(or on a first attach) it gets the full backfill: closed per-second rollups, then the held
events and the raw task rows of the seconds the rollups do not cover, then HISTORY_END with
the first live sequence number. See docs/PROTOCOL.md, "History" and "Live rollups".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from poolmon.core.protocol import HistoryEnd, Subscribe
from poolmon.core.rollup_pack import as_lists
from poolmon.runtime.endpoint import fanout
from poolmon.runtime.endpoint.connection import Connection, live_rollups, subscription_key
from poolmon.runtime.endpoint.fitting import queue_batch, queue_rollups
from poolmon.runtime.endpoint.history import History, Record

ROLLUPS_PER_FRAME: Final = 120
"""Rollups per ROLLUPS frame (a rollup packs to a few hundred bytes)."""


def _queue_records(
    conn: Connection,
    records: Sequence[tuple[int, Record]],
    lo: int,
    hi: int,
    key: tuple[tuple[str, ...], bool],
) -> None:
    """Queue `records` (within [lo, hi)) filtered for `conn`, whatever its buffer holds."""
    if hi <= lo:
        return
    chunk_bytes = min(fanout.CHUNK_BYTES, conn.max_frame_size // 2)
    for chunk in fanout.split(records, lo, hi, key, chunk_bytes):
        if chunk.records:
            queue_batch(conn, chunk.lo, chunk.hi, chunk.events, chunk.tasks, chunk.pack())


def _queue_rollups(conn: Connection, wires: Sequence[dict[str, Any]], until_s: int) -> None:
    """Queue history's packed rollups, as int lists for a monitor that did not ask for bins."""
    if not conn.packed_rollups:
        wires = [as_lists(w) for w in wires]
    for i in range(0, len(wires), ROLLUPS_PER_FRAME):
        queue_rollups(conn, tuple(wires[i : i + ROLLUPS_PER_FRAME]), until_s)


def send_history(conn: Connection, sub: Subscribe, history: History) -> int:
    """Queue the resume or backfill `sub` asks for; returns the first live sequence number.

    A live-rollups subscription (`live_tasks="rollups"`) resumes only if history still holds
    both its records from `resume_seq` and its rollups from `rollups_since_s`; the resume then
    carries the held events and the rollups of the seconds closed since (no task rows: every
    task of those seconds is in them, and the open seconds' tasks come in live rollups).
    Its backfill is the ordinary one, raw rows of the open seconds included, so it is complete
    at once; the live rollups of those seconds later add only what the rows lacked.
    """
    conn.key = subscription_key(sub)
    conn.live_rollups = rolls = live_rollups(sub)
    conn.packed_rollups = sub.packed_rollups
    live = history.next_seq
    lost = 0
    if sub.resume_seq is not None:
        held = history.resume(sub.resume_seq)
        wires = history.rollups_since(sub.rollups_since_s) if rolls else ()
        if held is not None and wires is not None:
            _queue_records(conn, held, sub.resume_seq, live, conn.key)
            until = history.rollups_until_s if rolls else 0
            _queue_rollups(conn, wires, until)
            conn.queue_frame(HistoryEnd(live, until, resumed=True, lost=0))
            return live
        lost = max(0, min(history.oldest_seq, live) - sub.resume_seq)
    if not sub.history:
        until = history.rollups_until_s if rolls else 0
        conn.queue_frame(HistoryEnd(live, until, resumed=False, lost=lost))
        return live
    backfill = history.backfill()
    if sub.tasks:
        _queue_rollups(conn, backfill.rollups, backfill.until_s)
    if backfill.records:
        key = (conn.key[0], sub.tasks)  # the open seconds' rows, in either task mode
        _queue_records(conn, backfill.records, backfill.records[0][0], live, key)
    until = history.rollups_until_s if rolls else backfill.until_s if sub.tasks else 0
    conn.queue_frame(HistoryEnd(live, until, False, lost))
    return live
