"""A BATCH's records into the aggregator: events at once, task batches claimed and merged.

Why merging: the aggregator's cost per ingested batch has a fixed part per worker and operation
present, so a monitor (live, or a replay) merges the rows that arrive within a fraction of a
second and ingests them once. Pure numpy, shared by `poolmon.runtime.monitor` and
`poolmon.core.recording.feed`.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from poolmon.core.aggregator import Aggregator
from poolmon.core.events import TASK_COLUMNS, Event, TaskBatch
from poolmon.core.protocol import Batch

__all__ = ["claim_records", "merge_batches"]


def claim_records(agg: Aggregator, frame: Batch) -> Iterator[TaskBatch]:
    """Every record of a BATCH in sequence order, each claimed once (docs/METRICS.md).

    Events are ingested at once and the task batches yielded for merging, so the sequence
    number is claimed on arrival: a record a resume or backfill sends again is dropped here,
    whatever its kind, before it can count twice.
    """
    records: Iterable[tuple[int, Event | TaskBatch]] = heapq.merge(
        frame.events, frame.tasks, key=lambda r: r[0]
    )
    for seq, record in records:
        if isinstance(record, TaskBatch):
            if agg.claim(seq, len(record)):
                yield record
        else:
            agg.ingest_event(record, seq=seq)


def merge_batches(batches: list[TaskBatch]) -> TaskBatch:
    """Concatenate task batches into one, remapping their `ops`/`error_types` indexes.

    The aggregator's cost per batch has a fixed part per worker and operation present, so
    at 100k tasks/s arriving as 1,000-row batches, ingesting a few merged batches a second
    instead of a hundred small ones is most of the monitor's CPU budget saved.
    """
    batches = [b for b in batches if len(b)]
    if len(batches) == 1:
        return batches[0]
    ops: dict[str, int] = {}
    errors: dict[str, int] = {"": 0}
    parts: dict[str, list[npt.NDArray[np.int64]]] = {name: [] for name in TASK_COLUMNS}
    for batch in batches:
        op_map = np.array([ops.setdefault(o, len(ops)) for o in batch.ops], dtype=np.int64)
        error_map = np.array(
            [errors.setdefault(e, len(errors)) for e in batch.error_types], dtype=np.int64
        )
        for name, column in batch.columns():
            values = np.frombuffer(column, dtype=np.int64)
            if name == "op":
                values = op_map[values]
            elif name == "error_type":
                values = error_map[values]
            parts[name].append(values)
    columns = []
    for name in TASK_COLUMNS:
        out = array("q")
        if parts[name]:
            out.frombytes(np.concatenate(parts[name]).tobytes())
        columns.append(out)
    return TaskBatch(tuple(ops), tuple(errors), *columns)
