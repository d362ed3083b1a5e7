"""Recordings built with the real codec: from a seeded stream, or stretched from a real one.

Why: snapshot tests and seek tests need recordings that are byte-for-byte reproducible (a
seeded `StreamGenerator`, written block by block with `poolmon.core.recording.format`, no
thread or wall clock), and the replay benchmark needs an hour of recording without waiting
an hour (`stretch`: a recorded minute repeated with every time and sequence number shifted,
re-encoded with the same codec a recorder uses).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import Batch, Frame, Heartbeat, HistoryEnd, Welcome
from poolmon.core.recording.entries import LINK_DOWN, Note, frame_entry, note_entry
from poolmon.core.recording.format import (
    Entry,
    RecordingHeader,
    encode_block,
    encode_header,
)
from poolmon.runtime.recording.reader import RecordingFile
from poolmon.testing.stream_generator import StreamGenerator, StreamSpec

NS = 1_000_000_000
START_NS = 1_767_225_600_000_000_000
"""2026-01-01T00:00:00Z, where generated recordings start."""
RECV_LAG_NS = 50_000_000
"""A second's frame is received this long after the second ends."""


def synthesize(
    path: Path,
    seconds: int,
    spec: StreamSpec | None = None,
    *,
    start_ns: int = START_NS,
    gap: tuple[int, int] | None = None,
) -> Path:
    """Write `seconds` of a seeded stream as a recording (one block a second).

    Args:
        path: Where (overwritten).
        seconds: Length.
        spec: The generated pool (`StreamSpec()` by default).
        start_ns: The pool's start (second 0).
        gap: `(at_s, length_s)`: the link drops at `at_s`, the stretch is lost, and the
            recorder reconnects (a new WELCOME and a backfill that reports the loss).
    """
    spec = spec or StreamSpec()
    gen = StreamGenerator(spec, start_ns)
    welcome = Welcome(
        pool=spec.name, pid=spec.pid, host=spec.host, started_at_ns=start_ns, catalog_version=5
    )
    header = RecordingHeader(1, spec.name, spec.pid, spec.host, start_ns, start_ns, 5, "test")
    blocks = [encode_header(header)]
    seq = gap_seq = 0
    first: list[Entry] = [frame_entry(welcome, start_ns), frame_entry(HistoryEnd(0, 0), start_ns)]
    for t, (end_ns, events, batch) in enumerate(gen.seconds(seconds)):
        recv = end_ns + RECV_LAG_NS
        entries, first = first, []
        records = len(events) + 1
        down = gap is not None and gap[0] <= t < gap[0] + gap[1]
        if gap is not None and t == gap[0]:
            gap_seq = seq
            entries.append(note_entry(LINK_DOWN, recv - NS // 2, reason="connection reset"))
        if not down:
            if gap is not None and t == gap[0] + gap[1]:
                lost = seq - gap_seq
                entries.append(frame_entry(replace(welcome, next_seq=seq), recv - NS // 4))
                entries.append(frame_entry(HistoryEnd(seq, 0, lost=lost), recv - NS // 4))
            frame = Batch(
                seq,
                seq + records,
                tuple((seq + i, e) for i, e in enumerate(events)),
                ((seq + len(events), batch),),
            )
            entries.append(frame_entry(frame, recv))
            entries.append(frame_entry(Heartbeat(recv + NS // 2, seq + records), recv + NS // 2))
        seq += records
        if entries:
            blocks.append(encode_block(entries))
    path.write_bytes(b"".join(blocks))
    return path


def stretch(source: Path, target: Path, copies: int) -> Path:
    """`copies` back-to-back copies of a recording, times and sequence numbers shifted.

    Each copy after the first keeps the BATCH and HEARTBEAT frames only (one connection, no
    second handshake), with receive times, event times, task start times and sequence
    numbers moved on by the recording's length and record count, so the result replays as
    one long recording of the same pool.
    """
    rec = RecordingFile(source)
    try:
        items = [item for i in range(len(rec.blocks)) for item in rec.items(i)]
        span = rec.last_ns - rec.first_ns + NS
        header = rec.header
    finally:
        rec.close()
    seqs = [f.end for _, f in items if isinstance(f, Batch)]
    seq_span = max(seqs) if seqs else 0
    out = [encode_header(header)]
    for copy in range(copies):
        block: list[Entry] = []
        second = None
        for recv, item in _shifted(items, copy, span, seq_span):
            if second is not None and recv // NS != second and block:
                out.append(encode_block(block))
                block = []
            second = recv // NS
            block.append(
                note_entry(item.note, recv, **item.fields)
                if isinstance(item, Note)
                else frame_entry(item, recv)
            )
        if block:
            out.append(encode_block(block))
    target.write_bytes(b"".join(out))
    return target


def _shifted(
    items: list[tuple[int, Frame | Note]], copy: int, span: int, seq_span: int
) -> Iterator[tuple[int, Frame | Note]]:
    if copy == 0:
        yield from items
        return
    dt, ds = copy * span, copy * seq_span
    for recv, item in items:
        if isinstance(item, Batch):
            events = tuple(
                (s + ds, Event(e.name, e.ts_ns + dt, e.measurements, e.metadata))
                for s, e in item.events
            )
            tasks = tuple((s + ds, _shift_tasks(b, dt)) for s, b in item.tasks)
            yield recv + dt, Batch(item.seq + ds, item.end + ds, events, tasks)
        elif isinstance(item, Heartbeat):
            yield recv + dt, replace(item, ts_ns=item.ts_ns + dt, next_seq=item.next_seq + ds)


def _shift_tasks(batch: TaskBatch, dt: int) -> TaskBatch:
    start = array("q", (v + dt for v in batch.start_ns))
    return replace(batch, start_ns=start)
