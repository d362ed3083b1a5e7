"""Per-operation totals since the monitor attached: what a Prometheus counter and histogram need.

The aggregator's windows answer "how many in the last minute"; Prometheus wants the opposite,
counts that only ever grow and that it differences itself (`rate()`). `OpTotals` keeps, per
operation, the tasks that ran by status and their durations in a fixed, small set of export
buckets, fed from the same deduplicated paths as the windows (live rows after the sequence
and task-id dedupe, history rollups after the second watermark), so a task is counted exactly
once across reconnects, and nothing is ever subtracted: a pool restart keeps counting on top.

Export buckets (`EXPORT_BOUNDS_S`): 1-2.5-5 steps from 10 us to 1000 s, 25 bounds plus +Inf.
Each of the sketch's 1,280 log buckets (`poolmon.core.sketch`, 1 % wide) is assigned whole to
the first export bound at or above its representative value, so an export bucket's count is
exact up to the sketch's 1 %: a duration within 1 % of a bound may land on either side of it.

Statuses: ok, error, timeout, crashed from live rows, and from rollups that split each
operation's failures into timeouts and crashes (`OpRollup.fails`, sent by every current pool).
A rollup without that split (an older pool) keeps only an operation's count and failures;
its failures are given the pool-wide failure kind of that second when there was only one,
else the status `failed` (kind not kept). Cancelled tasks never ran and are not here (the
pool-wide `status_totals` counts them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from poolmon.core.events import TASK_CANCELLED, TASK_CRASHED, TASK_ERROR, TASK_OK, TASK_TIMEOUT
from poolmon.core.rollup import Rollup
from poolmon.core.sketch import N_BUCKETS, bucket_value

EXPORT_BOUNDS_S: Final[tuple[float, ...]] = (
    *(float(f"{m}e{e}") for e in range(-5, 3) for m in ("1", "2.5", "5")),
    1000.0,
)
"""Finite `le` bounds of the exported duration histogram, seconds (25 of them)."""

STATUSES: Final[tuple[str, ...]] = ("ok", "error", "timeout", "crashed", "failed")
"""Status label values; `failed` only for backfilled failures of unknown kind."""
FAILED_STATUS: Final = 4
"""Index of `failed` in `STATUSES`: backfilled failures of more than one kind."""
OTHER_OP: Final = "(other)"
"""Where operations beyond the cap are counted."""

_REP_NS = np.array([bucket_value(b) for b in range(N_BUCKETS)])
SKETCH_TO_EXPORT: Final = np.searchsorted(
    np.array(EXPORT_BOUNDS_S) * 1e9, _REP_NS, side="left"
).astype(np.intp)
"""For each sketch bucket, its export bucket (len(EXPORT_BOUNDS_S) is the +Inf one)."""
_NB: Final = len(EXPORT_BOUNDS_S) + 1


def rollup_fail_status(r: Rollup) -> int:
    """The status a backfilled second's failures are counted under (see the module doc)."""
    return rollup_fail_status_of(r.by_status)


def rollup_fail_status_of(by_status: Sequence[int]) -> int:
    """`rollup_fail_status` of a rollup's counts by status."""
    kinds = [i for i in range(TASK_OK + 1, TASK_CANCELLED) if by_status[i]]
    return kinds[0] if len(kinds) == 1 else FAILED_STATUS


def op_status(
    count: int, failed: int, fail_status: int, fails: tuple[int, int] | None
) -> npt.NDArray[np.int64]:
    """A backfilled operation's tasks per status (`STATUSES` order); see `add_counts`."""
    status = np.zeros(len(STATUSES), dtype=np.int64)
    status[TASK_OK] = count - failed
    if fails is None:
        status[fail_status] = failed
    else:
        status[TASK_ERROR] = failed - fails[0] - fails[1]
        status[TASK_TIMEOUT], status[TASK_CRASHED] = fails
    return status


@dataclass(frozen=True, slots=True)
class OpTotal:
    """One operation's totals since attach.

    Attributes:
        name: Operation name (or `(other)` for those beyond the cap).
        by_status: Tasks that ran, per status in `STATUSES` order.
        buckets: Durations per export bucket, not cumulative; the last is +Inf.
        sum_s: Sum of durations in seconds.
    """

    name: str
    by_status: tuple[int, ...]
    buckets: tuple[int, ...]
    sum_s: float

    @property
    def count(self) -> int:
        """Tasks that ran."""
        return sum(self.by_status)


class OpTotals:
    """Monotonic per-operation counts and duration buckets (see module doc).

    Args:
        max_ops: Operations with their own row; later ones are counted as `(other)`.
    """

    def __init__(self, max_ops: int = 64) -> None:
        self.max_ops = max_ops
        self._cols: dict[str, int] = {}
        cap = max_ops + 1
        self._status = np.zeros((cap, len(STATUSES)), dtype=np.int64)
        self._buckets = np.zeros((cap, _NB), dtype=np.int64)
        self._sums_ns = np.zeros(cap, dtype=np.float64)
        self._debt_status = np.zeros_like(self._status)
        self._debt_buckets = np.zeros_like(self._buckets)
        self._debt_sum_ns = np.zeros_like(self._sums_ns)

    def _col(self, name: str) -> int:
        col = self._cols.get(name)
        if col is None:
            if len(self._cols) >= self.max_ops:
                name = OTHER_OP
                col = self._cols.get(name)
            if col is None:
                col = self._cols[name] = len(self._cols)
        return col

    def ingest(
        self,
        ops: Sequence[str],
        op: npt.NDArray[np.int64],
        status: npt.NDArray[np.int64],
        dbin: npt.NDArray[np.intp],
        duration_ns: npt.NDArray[np.int64],
    ) -> None:
        """Count live rows that ran (cancelled ones already removed); `dbin`: sketch buckets."""
        if len(op) == 0:
            return
        cap = self.max_ops + 1
        cols = np.array([self._col(n) for n in (ops or ("(unnamed)",))], dtype=np.intp)
        g = cols[op]
        ns = len(STATUSES)
        self._status += np.bincount(g * ns + status, minlength=cap * ns).reshape(cap, ns)
        eb = SKETCH_TO_EXPORT[dbin]
        self._buckets += np.bincount(g * _NB + eb, minlength=cap * _NB).reshape(cap, _NB)
        self._sums_ns += np.bincount(g, weights=duration_ns, minlength=cap)

    def ingest_rollup(self, r: Rollup) -> None:
        """Count one backfilled second (see the module doc for its failures' status)."""
        fail_status = rollup_fail_status(r)
        for o in r.by_op:
            h = o.duration
            self.add_counts(o.name, o.count, o.failed, fail_status, h.dense(), h.sum_ns, o.fails)

    def add_counts(
        self,
        name: str,
        count: int,
        failed: int,
        fail_status: int,
        sketch_counts: npt.NDArray[np.int64],
        sum_ns: float,
        fails: tuple[int, int] | None = None,
    ) -> None:
        """Add one operation's tasks from history (sketch bucket counts), never going back.

        `fails` (timeouts, crashes among `failed`) labels the failures exactly; without it
        they all go to `fail_status`.

        The deltas may be negative (a backfill that adds only what a second lacks can find the
        pool counted a row one second later than the monitor did): a negative part is held as
        a debt and paid from later additions, so every exported counter stays monotonic and
        the totals come out exact once the late row's second arrives.
        """
        self.add_status(name, op_status(count, failed, fail_status, fails), sketch_counts, sum_ns)

    def add_status(
        self,
        name: str,
        status: npt.NDArray[np.int64],
        sketch_counts: npt.NDArray[Any],
        sum_ns: float,
    ) -> None:
        """`add_counts` with the per-status counts given (several seconds summed at once)."""
        col = self._col(name)
        buckets = np.bincount(
            SKETCH_TO_EXPORT[: len(sketch_counts)], weights=sketch_counts, minlength=_NB
        ).astype(np.int64)
        net = status - self._debt_status[col]
        self._status[col] += np.maximum(net, 0)
        self._debt_status[col] = np.maximum(-net, 0)
        net = buckets - self._debt_buckets[col]
        self._buckets[col] += np.maximum(net, 0)
        self._debt_buckets[col] = np.maximum(-net, 0)
        net_sum = sum_ns - self._debt_sum_ns[col]
        self._sums_ns[col] += max(net_sum, 0.0)
        self._debt_sum_ns[col] = max(-net_sum, 0.0)

    def view(self) -> tuple[OpTotal, ...]:
        """Every operation's totals, in first-seen order (`(other)` where it fell)."""
        return tuple(
            OpTotal(
                name,
                tuple(int(x) for x in self._status[col]),
                tuple(int(x) for x in self._buckets[col]),
                float(self._sums_ns[col]) / 1e9,
            )
            for name, col in self._cols.items()
        )
