"""Accumulators and name tables of the rollup builder (`poolmon.core.rollup_fold`).

An open second is a `SecondAcc` of dense histogram counts and small dicts keyed by builder-wide
ids; `Tables` translates each TaskBatch's own op and error-type indexes into those ids, so the
fold can group rows from batches with different name tables with one lookup per row.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from poolmon.core.events import STATUS_NAMES
from poolmon.core.sketch import N_BUCKETS

I64 = npt.NDArray[np.int64]
IDX = npt.NDArray[np.intp]
N_STATUS: Final = len(STATUS_NAMES)
UNNAMED_OP: Final = "(unnamed)"
"""The name counted for rows of a batch whose operation table is empty."""
MAX_TABLES: Final = 1024
"""Distinct name tables remembered between folds (then forgotten; names are kept)."""


class Names:
    """Interned names: a builder-wide id for every distinct string."""

    __slots__ = ("ids", "names")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.ids: dict[str, int] = {}

    def id(self, name: str) -> int:
        """The id of `name`, assigned on first sight."""
        i = self.ids.get(name)
        if i is None:
            i = self.ids[name] = len(self.names)
            self.names.append(name)
        return i


class Dist:
    """Histogram counts with exact sum, min and max, merged from fold results."""

    __slots__ = ("counts", "hi", "lo", "total")

    def __init__(self) -> None:
        self.counts: I64 = np.zeros(N_BUCKETS, dtype=np.int64)
        self.total = 0.0
        self.lo: int | None = None
        self.hi: int | None = None

    def merge(self, counts: I64, total: float, lo: int, hi: int) -> None:
        """Add one group's histogram row and summary."""
        self.counts += counts
        self.total += total
        self.lo = lo if self.lo is None else min(self.lo, lo)
        self.hi = hi if self.hi is None else max(self.hi, hi)


class OpAcc:
    """One operation within one second."""

    __slots__ = ("count", "crashed", "dist", "failed", "timeout")

    def __init__(self) -> None:
        self.count = 0
        self.failed = 0
        self.timeout = 0
        """Of `failed`: timeouts and crashes (the rest are errors), for exact status labels."""
        self.crashed = 0
        self.dist = Dist()


class SecondAcc:
    """Everything counted so far for one open second (ids are builder-wide, see `Tables`)."""

    __slots__ = ("count", "dur", "errors", "ops", "status", "wait", "workers")

    def __init__(self) -> None:
        self.count = 0
        self.status: I64 = np.zeros(N_STATUS, dtype=np.int64)
        self.dur = Dist()
        self.wait = Dist()
        self.ops: dict[int, OpAcc] = {}
        self.workers: dict[int, list[int]] = {}
        self.errors: dict[int, int] = {}


class Tables:
    """Translation from each batch's name tables to builder-wide op and error-name ids.

    Error names and status names share one id space: a failure without an exception type is
    counted under its status name (the aggregator's definition).
    """

    def __init__(self) -> None:
        self.ops = Names()
        self.errors = Names()
        self.status_ids: IDX = np.array([self.errors.id(s) for s in STATUS_NAMES], dtype=np.intp)
        self._ids: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}
        self.op_lut: list[IDX] = []
        self.err_lut: list[IDX] = []
        self.identity: list[bool] = []
        self._joined: tuple[IDX, IDX, IDX, IDX, IDX, IDX] | None = None

    def id(self, ops: tuple[str, ...], errors: tuple[str, ...]) -> int:
        """The id of a (ops, error_types) pair of name tables, registered on first sight."""
        key = (ops, errors)
        tid = self._ids.get(key)
        if tid is None:
            tid = self._ids[key] = len(self.op_lut)
            names = ops or (UNNAMED_OP,)
            op_lut = np.array([self.ops.id(n) for n in names], dtype=np.intp)
            self.op_lut.append(op_lut)
            self.err_lut.append(np.array([self.errors.id(n) for n in errors], dtype=np.intp))
            self.identity.append(bool((op_lut == np.arange(len(op_lut))).all()))
            self._joined = None
        return tid

    def trim(self) -> None:
        """Forget the tables (between folds) once too many were seen; names are kept."""
        if len(self.op_lut) > MAX_TABLES:
            self._ids.clear()
            self.op_lut.clear()
            self.err_lut.clear()
            self.identity.clear()
            self._joined = None

    def joined(self) -> tuple[IDX, IDX, IDX, IDX, IDX, IDX]:
        """All tables' lookups concatenated, for folds that mix tables.

        Returns (op_lut, op_offset, op_len, err_lut, err_offset, err_len), the offsets and
        lengths indexed by table id.
        """
        if self._joined is None:
            op_len = np.array([len(t) for t in self.op_lut], dtype=np.intp)
            err_len = np.array([len(t) for t in self.err_lut], dtype=np.intp)
            self._joined = (
                np.concatenate(self.op_lut),
                np.concatenate(([0], np.cumsum(op_len)[:-1])).astype(np.intp),
                op_len,
                np.concatenate(self.err_lut),
                np.concatenate(([0], np.cumsum(err_len)[:-1])).astype(np.intp),
                err_len,
            )
        return self._joined
