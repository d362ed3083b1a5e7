"""A ROLLUPS frame's rollups as columns: what `poolmon.core.rollup_batch` folds in one go.

Why: turning each of a backfill's 900 rollups into a `Rollup` of tuples, then each histogram
into a dense vector, cost an attaching monitor about 0.5 s for 15 busy minutes: a million
bucket numbers and counts, each a Python int. Here the histograms of a whole frame stay
numpy arrays: packed ones (version 2, `poolmon.core.packed_hist`) are joined and read with
one `numpy.frombuffer` per frame; int lists (version 1, an older pool) are checked by
`Hist.from_wire` and converted. Everything else (operations, workers, error types: a few
dozen small values a second) is read in Python with the same checks as `Rollup.from_wire`,
so a frame that one rejects the other rejects too (ProtocolError), before anything is counted.

A histogram is kept as a run of entries (`bucket`, `count`) in one flat array per kind
(pool-wide durations `d`, queue waits `q`, per-operation durations `op`), with per-histogram
sum, min, max and entry range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from poolmon.core.errors import ProtocolError
from poolmon.core.events import STATUS_NAMES
from poolmon.core.packed_hist import unpack_hist
from poolmon.core.rollup import Hist, is_packed
from poolmon.core.sketch import N_BUCKETS

I64 = npt.NDArray[np.int64]
IDX = npt.NDArray[np.intp]


@dataclass(slots=True)
class Hists:
    """Many sparse histograms: entries `[start[i], start[i+1])` belong to histogram i."""

    bucket: IDX
    count: I64
    start: IDX
    sum_ns: list[float]
    min_ns: list[int]
    max_ns: list[int]

    def owner(self) -> IDX:
        """Each entry's histogram index."""
        return np.repeat(np.arange(len(self.sum_ns), dtype=np.intp), np.diff(self.start))

    def totals(self) -> I64:
        """Values per histogram (exact: float64 adds integers below 2**53 exactly)."""
        n = len(self.sum_ns)
        return np.bincount(self.owner(), weights=self.count, minlength=n).astype(np.int64)


class _HistParts:
    """Histograms being collected (their raw wire values), turned into `Hists` at the end."""

    def __init__(self) -> None:
        self.raw: list[tuple[Any, Any, bool]] = []
        self.sum_ns: list[float] = []
        self.min_ns: list[int] = []
        self.max_ns: list[int] = []

    def add(self, w: Any, packed: bool) -> None:
        try:
            buckets, counts, sum_ns, min_ns, max_ns = w
            self.sum_ns.append(float(sum_ns))
            self.min_ns.append(int(min_ns))
            self.max_ns.append(int(max_ns))
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed rollup histogram: {exc}") from None
        self.raw.append((buckets, counts, packed))

    def build(self) -> Hists:
        lens = _uniform(self.raw)
        if lens is not None:
            bucket, count = _joined(self.raw, lens)
        else:
            parts = [_one(b, c, packed) for b, c, packed in self.raw]
            lens = [len(b) for b, _ in parts]
            bucket = np.concatenate([b for b, _ in parts] or [np.zeros(0, dtype=np.intp)])
            count = np.concatenate([c for _, c in parts] or [np.zeros(0, dtype=np.int64)])
        start = np.zeros(len(lens) + 1, dtype=np.intp)
        np.cumsum(lens, out=start[1:])
        return Hists(bucket, count, start, self.sum_ns, self.min_ns, self.max_ns)


def _one(buckets: Any, counts: Any, packed: bool) -> tuple[IDX, I64]:
    """One histogram's entries, checked as `Hist.from_wire` checks them."""
    if packed:
        return unpack_hist(buckets, counts)
    h = Hist.from_wire([buckets, counts, 0.0, 0, 0])
    return np.asarray(h.buckets, dtype=np.intp), np.asarray(h.counts, dtype=np.int64)


def _uniform(raw: list[tuple[Any, Any, bool]]) -> list[int] | None:
    """Entries per histogram when all are packed with 4-byte counts (else None)."""
    lens = []
    for b, c, packed in raw:
        if not packed or type(b) is not bytes or type(c) is not bytes:
            return None
        if len(b) % 2 or len(c) != 2 * len(b):
            return None
        lens.append(len(b) // 2)
    return lens


def _joined(raw: list[tuple[Any, Any, bool]], lens: list[int]) -> tuple[IDX, I64]:
    """All packed histograms' entries at once, with the checks of `unpack_hist`."""
    bucket = np.frombuffer(b"".join(b for b, _, _ in raw), dtype="<u2").astype(np.intp)
    count = np.frombuffer(b"".join(c for _, c, _ in raw), dtype="<u4").astype(np.int64)
    if len(bucket):
        first = np.zeros(len(bucket), dtype=bool)
        starts = np.cumsum([0, *lens[:-1]])
        first[starts[np.asarray(lens) > 0]] = True
        rising = np.ones(len(bucket), dtype=bool)
        rising[1:] = bucket[1:] > bucket[:-1]
        if int(bucket.max()) >= N_BUCKETS or not (rising | first).all():
            raise ProtocolError("malformed packed histogram: buckets not ascending in 0..1279")
        if not count.all():
            raise ProtocolError("malformed packed histogram: a count is 0 or too large")
    return bucket, count


@dataclass(slots=True)
class RollupCols:
    """The rollups of one frame, in arrival order (see module doc).

    Per rollup: `second`, `count`, `status` (n x 5). Per operation entry: its rollup
    (`op_row`), `op_name`, `op_count`, `op_failed`, `op_fails` (None when the rollup had no
    `of`), and its histogram in `op_hist` (same index). Per worker and error entry: rollup,
    key and counts. `d` and `q`: one histogram per rollup.
    """

    wires: Sequence[Mapping[str, Any]]
    second: I64
    count: I64
    status: I64
    op_row: list[int] = field(default_factory=list)
    op_name: list[str] = field(default_factory=list)
    op_count: list[int] = field(default_factory=list)
    op_failed: list[int] = field(default_factory=list)
    op_fails: list[tuple[int, int] | None] = field(default_factory=list)
    worker_row: list[int] = field(default_factory=list)
    worker_id: list[int] = field(default_factory=list)
    worker_done: list[int] = field(default_factory=list)
    worker_failed: list[int] = field(default_factory=list)
    error_row: list[int] = field(default_factory=list)
    error_name: list[str] = field(default_factory=list)
    error_n: list[int] = field(default_factory=list)
    d: Hists = field(default_factory=lambda: _HistParts().build())
    q: Hists = field(default_factory=lambda: _HistParts().build())
    op_hist: Hists = field(default_factory=lambda: _HistParts().build())


def rollup_cols(wires: Sequence[Mapping[str, Any]]) -> RollupCols:
    """Read a frame's rollup maps (either version); ProtocolError when one is malformed."""
    parts = {k: _HistParts() for k in ("d", "q", "op")}
    out = RollupCols(wires, *(np.zeros(0, dtype=np.int64),) * 3)
    seconds, counts, statuses = [], [], []
    for row, d in enumerate(wires):
        packed = is_packed(d)
        try:
            status = [int(x) for x in d["st"]]
            seconds.append(int(d["s"]))
            counts.append(int(d["n"]))
            first = len(out.op_name)
            for name, n, f, h in d["op"]:
                out.op_row.append(row)
                out.op_name.append(str(name))
                out.op_count.append(int(n))
                out.op_failed.append(int(f))
                parts["op"].add(h, packed)
            _fails(out, first, d.get("of"))
            for w, n, f in d["w"]:
                out.worker_row.append(row)
                out.worker_id.append(int(w))
                out.worker_done.append(int(n))
                out.worker_failed.append(int(f))
            for name, n in d["e"]:
                out.error_row.append(row)
                out.error_name.append(str(name))
                out.error_n.append(int(n))
            parts["d"].add(d["d"], packed)
            parts["q"].add(d["q"], packed)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"malformed rollup: {exc!r}") from None
        if len(status) != len(STATUS_NAMES) or counts[-1] < 0:
            raise ProtocolError("malformed rollup: status counts")
        statuses.append(status)
    out.second = np.asarray(seconds, dtype=np.int64)
    out.count = np.asarray(counts, dtype=np.int64)
    out.status = np.asarray(statuses, dtype=np.int64).reshape(len(wires), len(STATUS_NAMES))
    out.d, out.q, out.op_hist = parts["d"].build(), parts["q"].build(), parts["op"].build()
    return out


def _fails(out: RollupCols, first: int, of: Any) -> None:
    """The `of` split of the ops from `first` on, checked like `Rollup.from_wire` does."""
    n_ops = len(out.op_name) - first
    if of is None:
        out.op_fails.extend([None] * n_ops)
        return
    if not isinstance(of, list) or len(of) != n_ops:
        raise ProtocolError("malformed rollup: 'of' must have one [timeouts, crashes] per op")
    for i, (timeouts, crashes) in enumerate(of):
        t, c = int(timeouts), int(crashes)
        if t < 0 or c < 0 or t + c > out.op_failed[first + i]:
            raise ProtocolError("malformed rollup: 'of' counts exceed the op's failures")
        out.op_fails.append((t, c))
