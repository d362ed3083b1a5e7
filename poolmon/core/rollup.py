"""Per-second rollups of finished tasks: the pool's compact history, replayed into monitors.

The endpoint keeps the last >= 15 minutes of these in the pool process and sends them to a
monitor on attach, so a late monitor shows history at once. One `Rollup` describes every task
that finished in one wall-clock second: counts by status, operation, worker and error type,
and log-bucket histograms of duration and queue wait in the aggregator's own bucket scheme
(`poolmon.core.sketch`), so replaying a rollup gives the same percentiles as the live tasks did.
Histograms travel sparse (bucket indexes and counts), typically a few hundred bytes a second.

`RollupBuilder` is fed TaskBatches and closes seconds on request. Rows arriving for a second
that was already closed are counted in the oldest open second (or a fresh one for the latest
closed second + 1), so each task is counted exactly once and history is never rewritten;
`late_rows` says how often that happened. Per-worker latency histograms are not kept (they
would multiply the size by the worker count); per-worker counts are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from poolmon.core.batchview import NS_PER_S
from poolmon.core.errors import ProtocolError
from poolmon.core.events import STATUS_NAMES, TaskBatch
from poolmon.core.packed_hist import pack_hist, unpack_hist
from poolmon.core.rollup_acc import Dist, SecondAcc
from poolmon.core.rollup_fold import DEFAULT_FOLD_ROWS, SecondFolder
from poolmon.core.sketch import N_BUCKETS

WIRE_VERSION = 1
"""Bumped when the wire dict changes shape."""
PACKED_WIRE_VERSION = 2
"""`v` of a rollup whose histograms are packed arrays (`poolmon.core.packed_hist`); sent only
to a monitor that asked for them (docs/PROTOCOL.md, "Packed histograms")."""


@dataclass(frozen=True, slots=True)
class Hist:
    """A sparse log-bucket histogram with exact count, sum, min and max (ns)."""

    buckets: tuple[int, ...] = ()
    counts: tuple[int, ...] = ()
    sum_ns: float = 0.0
    min_ns: int = 0
    max_ns: int = 0

    @property
    def count(self) -> int:
        """Number of values."""
        return sum(self.counts)

    def dense(self) -> npt.NDArray[np.int64]:
        """The counts as a dense `N_BUCKETS` vector."""
        out = np.zeros(N_BUCKETS, dtype=np.int64)
        if self.buckets:
            out[np.asarray(self.buckets, dtype=np.intp)] = self.counts
        return out

    def to_wire(self, packed: bool = False) -> list[Any]:
        """Plain msgpack-able list; `packed`: buckets and counts as bins (`packed_hist`)."""
        if packed:
            return [*pack_hist(self.buckets, self.counts), self.sum_ns, self.min_ns, self.max_ns]
        return [list(self.buckets), list(self.counts), self.sum_ns, self.min_ns, self.max_ns]

    @classmethod
    def from_wire(cls, w: Any, packed: bool = False) -> Hist:
        """Inverse of `to_wire`; ProtocolError on anything malformed."""
        if packed:
            try:
                buckets, counts, sum_ns, min_ns, max_ns = w
                bins, tally = unpack_hist(buckets, counts)
                return cls(
                    tuple(bins.tolist()),
                    tuple(tally.tolist()),
                    float(sum_ns),
                    int(min_ns),
                    int(max_ns),
                )
            except (TypeError, ValueError) as exc:
                raise ProtocolError(f"malformed rollup histogram: {exc}") from None
        # Checked with C-level builtins (type set, min, max), not a Python loop per value: a
        # backfill of 15 busy minutes carries about a million of them (docs/BENCHMARKS.md, app).
        try:
            buckets, counts, sum_ns, min_ns, max_ns = w
            b, c = tuple(buckets), tuple(counts)
            hist = cls(b, c, float(sum_ns), int(min_ns), int(max_ns))
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed rollup histogram: {exc}") from None
        if not set(map(type, b)) | set(map(type, c)) <= {int}:
            raise ProtocolError("malformed rollup histogram: buckets and counts must be integers")
        if len(b) != len(c) or (b and (min(b) < 0 or max(b) >= N_BUCKETS or min(c) < 0)):
            raise ProtocolError("malformed rollup histogram: bad buckets or counts")
        return hist

    @classmethod
    def of_dense(cls, counts: npt.NDArray[np.int64], sum_ns: float, lo: int, hi: int) -> Hist:
        """Sparse form of dense counts."""
        nz = np.flatnonzero(counts)
        return cls(tuple(nz.tolist()), tuple(counts[nz].tolist()), sum_ns, lo, hi)


@dataclass(frozen=True, slots=True)
class OpRollup:
    """One operation within a second.

    `fails` splits `failed` into (timeouts, crashes), the rest being errors, so the status of
    every task is known exactly; None for a rollup from a pool that did not send the split.
    """

    name: str
    count: int
    failed: int
    duration: Hist
    fails: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Rollup:
    """Every task that finished in the second starting at `second_ns` (see module doc).

    `count` counts every row and `by_status` (indexed by TASK_* code) splits it; everything
    else describes the tasks that ran (cancelled ones excluded), with the aggregator's
    definitions: an op's or worker's `failed` = error + timeout + crashed, and a failure without
    an exception type is counted under its status name in `by_error_type`.
    """

    second_ns: int
    count: int
    by_status: tuple[int, ...]
    by_op: tuple[OpRollup, ...]
    by_worker: tuple[tuple[int, int, int], ...]
    by_error_type: tuple[tuple[str, int], ...]
    duration: Hist
    wait: Hist

    def to_wire(self, packed: bool = False) -> dict[str, Any]:
        """A dict of plain values (str, int, float, lists) for msgpack.

        `packed`: version 2, histograms as bins (docs/PROTOCOL.md, "Packed histograms").
        """
        return {
            "v": PACKED_WIRE_VERSION if packed else WIRE_VERSION,
            "s": self.second_ns,
            "n": self.count,
            "st": list(self.by_status),
            "op": [[o.name, o.count, o.failed, o.duration.to_wire(packed)] for o in self.by_op],
            **self._fails_wire(),
            "w": [list(w) for w in self.by_worker],
            "e": [[name, n] for name, n in self.by_error_type],
            "d": self.duration.to_wire(packed),
            "q": self.wait.to_wire(packed),
        }

    def _fails_wire(self) -> dict[str, Any]:
        """`of`: each op's [timeouts, crashes], beside `op` (absent when any op lacks it)."""
        if not self.by_op or any(o.fails is None for o in self.by_op):
            return {}
        return {"of": [list(o.fails) for o in self.by_op if o.fails is not None]}

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> Rollup:
        """Rebuild a rollup from `to_wire()` output; ProtocolError when malformed."""
        packed = is_packed(d)
        try:
            status = tuple(int(x) for x in d["st"])
            ops = tuple(
                OpRollup(str(name), int(n), int(f), Hist.from_wire(h, packed))
                for name, n, f, h in d["op"]
            )
            ops = _with_fails(ops, d.get("of"))
            workers = tuple((int(w), int(n), int(f)) for w, n, f in d["w"])
            errors = tuple((str(name), int(n)) for name, n in d["e"])
            rollup = cls(
                int(d["s"]),
                int(d["n"]),
                status,
                ops,
                workers,
                errors,
                Hist.from_wire(d["d"], packed),
                Hist.from_wire(d["q"], packed),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed rollup: {exc!r}") from None
        if len(status) != len(STATUS_NAMES) or rollup.count < 0:
            raise ProtocolError("malformed rollup: status counts")
        return rollup


def is_packed(d: Any) -> bool:
    """Whether a rollup map has packed histograms (version 2); ProtocolError if not a rollup."""
    if not isinstance(d, Mapping):
        raise ProtocolError(f"a rollup must be a map, got {type(d).__name__}")
    version = d.get("v")
    if version not in (WIRE_VERSION, PACKED_WIRE_VERSION):
        raise ProtocolError(
            f"rollup wire version {version!r}, expected {WIRE_VERSION} or {PACKED_WIRE_VERSION}"
        )
    return bool(version == PACKED_WIRE_VERSION)


class RollupBuilder:
    """Accumulates TaskBatches into per-second rollups (see module doc).

    `add` only queues a batch; the rows are counted with whole-column numpy operations once
    `fold_rows` rows are queued and whenever seconds are closed (`poolmon.core.rollup_fold`),
    which keeps the cost per task a few tens of ns instead of a few hundred.

    Args:
        fold_rows: Queued rows that trigger a fold (bounds the memory of the queue).
    """

    def __init__(self, fold_rows: int = DEFAULT_FOLD_ROWS) -> None:
        self._folder = SecondFolder(fold_rows)

    def add(self, batch: TaskBatch) -> None:
        """Queue a batch's tasks for counting into the seconds they finished in.

        A batch whose op or error-type index points outside its name tables, or whose status
        is not a TASK_* code, is skipped whole when the rows are folded (`invalid_batches`).
        """
        self._folder.add(batch)

    def close_before(self, second_ns: int) -> list[Rollup]:
        """Close and return every open second that starts before the second of `second_ns`."""
        tables = self._folder.tables
        ops, errors = tables.ops.names, tables.errors.names
        return [
            _rollup(second, acc, ops, errors)
            for second, acc in self._folder.take_before(second_ns // NS_PER_S)
        ]

    def flush(self) -> list[Rollup]:
        """Close every open second (shutdown, or a test)."""
        self._folder.fold()
        if not self._folder.open:
            return []
        return self.close_before((max(self._folder.open) + 1) * NS_PER_S)

    @property
    def open_seconds(self) -> tuple[int, ...]:
        """Seconds (epoch seconds) still accumulating (queued rows are folded first)."""
        self._folder.fold()
        return tuple(sorted(self._folder.open))

    @property
    def pending_rows(self) -> int:
        """Rows queued and not yet counted."""
        return self._folder.pending_rows

    @property
    def late_rows(self) -> int:
        """Rows that arrived after their second was closed (counted in a later second)."""
        return self._folder.late_rows

    @property
    def invalid_batches(self) -> int:
        """Batches skipped because an index or status was out of range."""
        return self._folder.invalid_batches

    @property
    def invalid_rows(self) -> int:
        """Rows of those batches."""
        return self._folder.invalid_rows


def _with_fails(ops: tuple[OpRollup, ...], of: Any) -> tuple[OpRollup, ...]:
    """Attach the wire's `of` split to the ops (ignored when absent; ProtocolError if bad)."""
    if of is None:
        return ops
    if not isinstance(of, list) or len(of) != len(ops):
        raise ProtocolError("malformed rollup: 'of' must have one [timeouts, crashes] per op")
    out = []
    for op, (timeouts, crashes) in zip(ops, of, strict=True):
        t, c = int(timeouts), int(crashes)
        if t < 0 or c < 0 or t + c > op.failed:
            raise ProtocolError("malformed rollup: 'of' counts exceed the op's failures")
        out.append(OpRollup(op.name, op.count, op.failed, op.duration, (t, c)))
    return tuple(out)


def _hist(d: Dist) -> Hist:
    return Hist.of_dense(d.counts, d.total, d.lo or 0, d.hi or 0)


def _rollup(second: int, acc: SecondAcc, ops: list[str], errors: list[str]) -> Rollup:
    """The immutable rollup of one closed second, with builder-wide ids resolved to names."""
    by_op = sorted(
        (
            OpRollup(ops[o], a.count, a.failed, _hist(a.dist), (a.timeout, a.crashed))
            for o, a in acc.ops.items()
        ),
        key=lambda r: r.name,
    )
    return Rollup(
        second * NS_PER_S,
        acc.count,
        tuple(acc.status.tolist()),
        tuple(by_op),
        tuple((w, a[0], a[1]) for w, a in sorted(acc.workers.items())),
        tuple(sorted((errors[e], n) for e, n in acc.errors.items())),
        _hist(acc.dur),
        _hist(acc.wait),
    )
