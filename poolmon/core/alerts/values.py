"""The values a metric read yields: one array of instances, with "no data" as NaN.

Split from `poolmon.core.alerts.metrics` so the per-metric readers
(`poolmon.core.alerts.metric_readers`) and the reader class can share these types without a
cycle. A rule compares all of a metric's instances at once, so values travel as one numpy
array beside a tuple of instance label keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from poolmon.core.ring import ENTITY_TIERS

Inst = tuple[tuple[str, str], ...]
"""An instance's split labels: `()` pool-wide, `(("op", "fetch"),)`, `(("worker", "3"),)`."""
F64 = npt.NDArray[np.float64]

QUANTILE_NAMES: Final = ("p50", "p90", "p95", "p99", "p999")
"""The latency quantiles a rule can name, as `latency_<name>`."""


@dataclass(slots=True)
class Values:
    """One metric's instances: their label keys and values (NaN = no data), in one array."""

    keys: tuple[Inst, ...]
    vals: F64
    _index: dict[Inst, int] | None = field(default=None, repr=False)

    @property
    def index(self) -> dict[Inst, int]:
        """Instance key -> position (built on first use)."""
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self.keys)}
        return self._index

    def get(self, key: Inst) -> float | None:
        """One instance's value, None when it has no data or does not exist."""
        i = self.index.get(key)
        if i is None:
            return None
        v = float(self.vals[i])
        return None if v != v else v

    @staticmethod
    def scalar(value: float | None) -> Values:
        """A pool-wide value."""
        return Values(((),), np.array([np.nan if value is None else value], dtype=np.float64))


def entity_window(window_s: int) -> int:
    """The window read from per-operation/per-worker rings (10 s slots for the first minute).

    A window of under a minute would often be just the slot in progress, which holds nothing
    yet while the rollups lag; so such windows take one more slot (at most a minute).
    """
    slot, span = ENTITY_TIERS[0]
    return min(slot * span, window_s + slot) if window_s < slot * span else window_s
