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

from poolmon.core.batchview import NS_PER_S, BatchView
from poolmon.core.errors import ProtocolError
from poolmon.core.events import STATUS_NAMES, TASK_CANCELLED, TASK_OK, TaskBatch
from poolmon.core.sketch import N_BUCKETS, buckets_of

WIRE_VERSION = 1
"""Bumped when the wire dict changes shape."""


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

    def to_wire(self) -> list[Any]:
        """Plain msgpack-able list."""
        return [list(self.buckets), list(self.counts), self.sum_ns, self.min_ns, self.max_ns]

    @classmethod
    def from_wire(cls, w: Any) -> Hist:
        """Inverse of `to_wire`; ProtocolError on anything malformed."""
        try:
            buckets, counts, sum_ns, min_ns, max_ns = w
            b = tuple(int(x) for x in buckets)
            c = tuple(int(x) for x in counts)
            hist = cls(b, c, float(sum_ns), int(min_ns), int(max_ns))
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed rollup histogram: {exc}") from None
        if len(b) != len(c) or any(not 0 <= x < N_BUCKETS for x in b) or any(x < 0 for x in c):
            raise ProtocolError("malformed rollup histogram: bad buckets or counts")
        return hist

    @classmethod
    def of_dense(cls, counts: npt.NDArray[np.int64], sum_ns: float, lo: int, hi: int) -> Hist:
        """Sparse form of dense counts."""
        nz = np.flatnonzero(counts)
        return cls(tuple(nz.tolist()), tuple(counts[nz].tolist()), sum_ns, lo, hi)


@dataclass(frozen=True, slots=True)
class OpRollup:
    """One operation within a second."""

    name: str
    count: int
    failed: int
    duration: Hist


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

    def to_wire(self) -> dict[str, Any]:
        """A dict of plain values (str, int, float, lists) for msgpack."""
        return {
            "v": WIRE_VERSION,
            "s": self.second_ns,
            "n": self.count,
            "st": list(self.by_status),
            "op": [[o.name, o.count, o.failed, o.duration.to_wire()] for o in self.by_op],
            "w": [list(w) for w in self.by_worker],
            "e": [[name, n] for name, n in self.by_error_type],
            "d": self.duration.to_wire(),
            "q": self.wait.to_wire(),
        }

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> Rollup:
        """Rebuild a rollup from `to_wire()` output; ProtocolError when malformed."""
        if not isinstance(d, Mapping):
            raise ProtocolError(f"a rollup must be a map, got {type(d).__name__}")
        if d.get("v") != WIRE_VERSION:
            raise ProtocolError(f"rollup wire version {d.get('v')!r}, expected {WIRE_VERSION}")
        try:
            status = tuple(int(x) for x in d["st"])
            ops = tuple(
                OpRollup(str(name), int(n), int(f), Hist.from_wire(h)) for name, n, f, h in d["op"]
            )
            workers = tuple((int(w), int(n), int(f)) for w, n, f in d["w"])
            errors = tuple((str(name), int(n)) for name, n in d["e"])
            rollup = cls(
                int(d["s"]),
                int(d["n"]),
                status,
                ops,
                workers,
                errors,
                Hist.from_wire(d["d"]),
                Hist.from_wire(d["q"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed rollup: {exc!r}") from None
        if len(status) != len(STATUS_NAMES) or rollup.count < 0:
            raise ProtocolError("malformed rollup: status counts")
        return rollup


class _Acc:
    """Open accumulator for one second."""

    __slots__ = ("count", "dur", "errors", "ops", "status", "wait", "workers")

    def __init__(self) -> None:
        self.count = 0
        self.status = np.zeros(len(STATUS_NAMES), dtype=np.int64)
        self.dur = _Dist()
        self.wait = _Dist()
        self.ops: dict[str, list[Any]] = {}
        self.workers: dict[int, list[int]] = {}
        self.errors: dict[str, int] = {}

    def add(self, v: BatchView) -> None:
        self.count += len(v)
        status = np.bincount(v.status, minlength=len(STATUS_NAMES))
        self.status += status
        if status[TASK_CANCELLED]:
            v = v.take(np.flatnonzero(v.status != TASK_CANCELLED))
            if len(v) == 0:
                return
        failed = v.status != TASK_OK
        dur = v.duration_ns
        dbin = buckets_of(dur)
        self.dur.add(dur, dbin)
        self.wait.add(v.wait_ns, buckets_of(v.wait_ns))
        for i in np.unique(v.op).tolist():
            name = v.ops[i] if i < len(v.ops) else "(unnamed)"
            acc = self.ops.setdefault(name, [0, 0, _Dist()])
            sel = v.op == i
            acc[0] += int(np.count_nonzero(sel))
            acc[1] += int(np.count_nonzero(failed & sel))
            acc[2].add(dur[sel], dbin[sel])
        wids, inv = np.unique(v.worker_id, return_inverse=True)
        done = np.bincount(inv, minlength=len(wids))
        bad = np.bincount(inv[failed], minlength=len(wids))
        for w, n, f in zip(wids.tolist(), done.tolist(), bad.tolist(), strict=True):
            acc_w = self.workers.setdefault(w, [0, 0])
            acc_w[0] += n
            acc_w[1] += f
        if failed.any():
            et, st = v.error_type[failed], v.status[failed]
            names = (*v.error_types, *STATUS_NAMES)
            key = np.where(et != 0, et, len(v.error_types) + st)
            per_key = np.bincount(key, minlength=len(names))
            for i in np.flatnonzero(per_key).tolist():
                self.errors[names[i]] = self.errors.get(names[i], 0) + int(per_key[i])

    def close(self, second: int) -> Rollup:
        return Rollup(
            second * NS_PER_S,
            self.count,
            tuple(self.status.tolist()),
            tuple(OpRollup(k, a[0], a[1], a[2].hist()) for k, a in sorted(self.ops.items())),
            tuple((w, a[0], a[1]) for w, a in sorted(self.workers.items())),
            tuple(sorted(self.errors.items())),
            self.dur.hist(),
            self.wait.hist(),
        )


class _Dist:
    __slots__ = ("counts", "hi", "lo", "total")

    def __init__(self) -> None:
        self.counts = np.zeros(N_BUCKETS, dtype=np.int64)
        self.total = 0.0
        self.lo: int | None = None
        self.hi: int | None = None

    def add(self, values: npt.NDArray[np.int64], bins: npt.NDArray[np.intp]) -> None:
        if len(values) == 0:
            return
        self.counts += np.bincount(bins, minlength=N_BUCKETS)
        self.total += float(values.sum(dtype=np.float64))
        lo, hi = int(values.min()), int(values.max())
        self.lo = lo if self.lo is None else min(self.lo, lo)
        self.hi = hi if self.hi is None else max(self.hi, hi)

    def hist(self) -> Hist:
        return Hist.of_dense(self.counts, self.total, self.lo or 0, self.hi or 0)


class RollupBuilder:
    """Accumulates TaskBatches into per-second rollups (see module doc)."""

    def __init__(self) -> None:
        self._open: dict[int, _Acc] = {}
        self._closed_through: int | None = None
        self.late_rows = 0
        """Rows that arrived after their second was closed (counted one second later)."""

    def add(self, batch: TaskBatch) -> None:
        """Count a batch's tasks into the seconds they finished in."""
        view = BatchView.of(batch)
        view.validate()
        for sec, rows in view.by_second():
            target = sec
            if self._closed_through is not None and sec <= self._closed_through:
                self.late_rows += len(rows)
                target = min(self._open, default=self._closed_through + 1)
            acc = self._open.get(target)
            if acc is None:
                acc = self._open[target] = _Acc()
            acc.add(rows)

    def close_before(self, second_ns: int) -> list[Rollup]:
        """Close and return every open second that starts before the second of `second_ns`."""
        limit = second_ns // NS_PER_S
        done = sorted(s for s in self._open if s < limit)
        out = [self._open.pop(s).close(s) for s in done]
        if done:
            self._closed_through = max(done[-1], self._closed_through or done[-1])
        return out

    def flush(self) -> list[Rollup]:
        """Close every open second (shutdown, or a test)."""
        if not self._open:
            return []
        return self.close_before((max(self._open) + 1) * NS_PER_S)

    @property
    def open_seconds(self) -> tuple[int, ...]:
        """Seconds (epoch seconds) still accumulating."""
        return tuple(sorted(self._open))
