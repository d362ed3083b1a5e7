"""Gauges: the latest value of things that go up and down, plus their per-slot means over time.

A gauge (pool size, queue depth, utilization, RSS...) is sampled, not counted: the "current
instant" is simply the latest sample, and a time slot's value is the mean of the samples that
fell into it (so a 1-minute slot of a 1 Hz queue depth is its average, not its sum). A slot with
no sample has count 0 and reads as `None`, never as 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from poolmon.core.ring import Tier, Tiers

POOL_GAUGES: tuple[str, ...] = (
    "size",
    "busy",
    "idle",
    "queue_depth",
    "utilization",
    "sessions",
    "pool_cpu_percent",
    "pool_rss_bytes",
    "workers_rss_bytes",
    "workers_cpu_percent",
    "workers_running",
    "fds",
    "threads",
    "machine_cpu_percent",
    "load1",
    "memory_percent",
    "swap_percent",
)
"""The pool-wide gauges, and the metric names `Aggregator.series` accepts for them."""


class GaugeSet:
    """Named gauges: latest values and per-slot (sum, count) rings (see module doc)."""

    __slots__ = ("_col", "latest", "latest_at_ns", "names", "ring")

    def __init__(self, names: Sequence[str], tiers: Sequence[Tier]) -> None:
        self.names = tuple(names)
        self._col = {n: i for i, n in enumerate(self.names)}
        self.ring = Tiers(tiers, (len(self.names), 2), np.float64)
        self.latest: dict[str, float] = {}
        self.latest_at_ns: dict[str, int] = {}

    @property
    def nbytes(self) -> int:
        """Fixed footprint in bytes (the latest-value dicts are bounded by `names`)."""
        return self.ring.nbytes

    def column(self, name: str) -> int:
        """Column of a gauge; KeyError for an unknown name."""
        return self._col[name]

    def set(self, second: int, at_ns: int, values: dict[str, float]) -> None:
        """Record one sample of several gauges taken at `at_ns` (in `second`)."""
        row = np.zeros((len(self.names), 2), dtype=np.float64)
        for name, value in values.items():
            col = self._col.get(name)
            if col is None:
                continue
            row[col, 0] = value
            row[col, 1] = 1.0
            if at_ns >= self.latest_at_ns.get(name, -(2**62)):
                self.latest[name] = value
                self.latest_at_ns[name] = at_ns
        self.ring.add(second, row)

    def drop_after(self, second: int) -> None:
        """Forget slots after `second` (clock went backwards)."""
        self.ring.drop_after(second)

    def window_mean(self, now_s: int, window_s: int, name: str) -> float | None:
        """Mean of a gauge's samples over the window, None without samples."""
        block = self.ring.window_sum(now_s, window_s)
        s, n = block[self._col[name]]
        return float(s / n) if n else None

    def means(self, rows: npt.NDArray[np.float64], name: str) -> list[float | None]:
        """Per-row means of one gauge from `(points, names, 2)` summed slot rows."""
        col = self._col[name]
        out: list[float | None] = []
        for s, n in rows[:, col, :].tolist():
            out.append(s / n if n else None)
        return out
