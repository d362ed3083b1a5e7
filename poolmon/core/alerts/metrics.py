"""The metric vocabulary alert rules can name, read from an `Aggregator` once per evaluation.

A rule says `metric = "error_rate"`, `window = "5m"`, `by = "op"`; this module turns that into
one value per instance (per operation here) from the aggregator's windowed rings, the same
numbers the terminal app shows. Each metric has a unit (for annotations), the `by` labels it
can be split by, and a definition of "no data": a value is None (a NaN in the arrays) when the
window holds nothing to compute it from, and a rule never fires on None (absence rules exist
for that). A count over a window that was watched but saw nothing is a real 0, not None.

`MetricReader` is built once per evaluation tick and caches every `(metric, window, by)` it
computes, so a thousand rules over a handful of metrics cost a handful of reads; values come
back as numpy arrays so rules compare all instances at once. The few figures the aggregator
keeps only as a latest value (a worker's CPU, the telemetry drop counter) are sampled once per
tick into a `MetricMemory` (`poolmon.core.alerts.memory`) the engine keeps across ticks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from poolmon.core.alerts.memory import MetricMemory
from poolmon.core.alerts.metric_readers import ABNORMAL_EXITS, READERS, quantile_rows, window_counts
from poolmon.core.alerts.values import F64, QUANTILE_NAMES, Inst, Values, entity_window
from poolmon.core.batchview import NS_PER_S
from poolmon.core.counters import OVERFLOW_LABEL
from poolmon.core.distring import DistRing
from poolmon.core.events import TASK_CRASHED, TASK_ERROR, TASK_OK, TASK_TIMEOUT
from poolmon.core.queries import covered_time_s, window_first_s
from poolmon.core.sketch import QUANTILES

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

__all__ = [
    "ABNORMAL_EXITS",
    "F64",
    "MAX_WINDOW_S",
    "METRICS",
    "Inst",
    "MetricMemory",
    "MetricReader",
    "MetricSpec",
    "Values",
    "entity_window",
    "quantile_rows",
]

MAX_WINDOW_S: Final = 3600
"""The longest window a metric can be read over (the aggregator keeps an hour)."""


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """What a metric is: its unit, the labels it splits by, and whether it counts events.

    Attributes:
        name: The name rules use.
        unit: One of `poolmon.core.alerts.units.UNITS`.
        by: Labels it can be split by (`op`, `worker`, `slot`); pool-wide is always allowed.
        counting: A count of events: 0 over a watched window means "nothing happened" (absence
            rules treat it like no data).
        help: One line for `poolmon alerts check` and docs/ALERTS.md.
    """

    name: str
    unit: str
    by: tuple[str, ...]
    counting: bool
    help: str


METRICS: Final[dict[str, MetricSpec]] = {
    s.name: s
    for s in (
        MetricSpec(
            "error_rate", "ratio", ("op",), False, "failed / finished tasks over the window"
        ),
        *(
            MetricSpec(
                f"latency_{q}", "seconds", ("op",), False, f"task run time, {q} over the window"
            )
            for q in QUANTILE_NAMES
        ),
        MetricSpec("throughput", "per_second", ("op",), True, "tasks finished per second"),
        MetricSpec("tasks_finished", "tasks", ("op",), True, "tasks that ran to an outcome"),
        MetricSpec(
            "tasks_failed", "tasks", ("op",), True, "tasks that failed (error, timeout, crash)"
        ),
        MetricSpec("queue_depth", "tasks", (), False, "tasks waiting, averaged over the window"),
        MetricSpec("utilization", "ratio", (), False, "busy / size, averaged over the window"),
        MetricSpec("pool_size", "count", (), False, "workers, averaged over the window"),
        MetricSpec("busy", "count", (), False, "busy workers, averaged over the window"),
        MetricSpec(
            "worker_rss_bytes",
            "bytes",
            ("worker",),
            False,
            "resident memory per worker (pool-wide: all workers), mean over the window",
        ),
        MetricSpec(
            "worker_cpu_percent",
            "percent",
            ("worker",),
            False,
            "CPU per worker, % of one core (pool-wide: mean of workers), mean over the window",
        ),
        MetricSpec(
            "worker_exits",
            "count",
            ("worker", "slot"),
            True,
            "abnormal worker exits (crash, task timeout kill, failed health check); by slot: "
            "per pool slot, which a replacement worker takes",
        ),
        MetricSpec(
            "telemetry_dropped",
            "count",
            (),
            True,
            "telemetry events the endpoint dropped (fell behind, or a slow monitor)",
        ),
    )
}
"""Every metric a rule can name."""


def _nan(v: float | None) -> float:
    return np.nan if v is None else float(v)


class MetricReader:
    """Reads metrics from an aggregator at one instant, caching each `(metric, window, by)`.

    Args:
        agg: The aggregator to read (not modified).
        now_ns: The evaluation time; windows end with the second containing it.
        memory: Sampled history of latest-only figures, kept by the caller across ticks.
    """

    def __init__(self, agg: Aggregator, now_ns: int, memory: MetricMemory) -> None:
        self.agg = agg
        self.now_ns = now_ns
        self.now_s = now_ns // NS_PER_S
        self.memory = memory
        self._cache: dict[tuple[str, int, str | None], Values] = {}
        self._parts: dict[tuple[str, int], object] = {}

    def read(self, metric: str, window_s: int, by: str | None = None) -> Values:
        """Every instance of `metric` over the last `window_s` seconds, split by `by`.

        Raises:
            KeyError: For a metric not in `METRICS` (rules are validated before this).
        """
        key = (metric, window_s, by)
        got = self._cache.get(key)
        if got is None:
            spec = METRICS[metric]
            if by is not None and by not in spec.by:
                raise ValueError(f"metric {metric!r} cannot be split by {by!r}")
            window_s = max(1, min(MAX_WINDOW_S, window_s))
            got = self._cache[key] = READERS[metric](self, metric, window_s, by)
        return got

    # ------------------------------------------------------------------ shared parts
    def _part(self, name: str, window_s: int, make: Callable[[], object]) -> object:
        key = (name, window_s)
        got = self._parts.get(key)
        if got is None:
            got = self._parts[key] = make()
        return got

    def covered_s(self, window_s: int) -> float:
        """Seconds of the window the aggregator has data for (0: nothing watched)."""
        agg = self.agg

        def make() -> float:
            first = window_first_s(agg.stats.status, self.now_s, window_s)
            return covered_time_s(agg, first, self.now_ns)

        return float(self._part("cov", window_s, make))  # type: ignore[arg-type]

    def status(self, window_s: int) -> tuple[int, int]:
        """(finished, failed) pool-wide over the window."""

        def make() -> tuple[int, int]:
            s = self.agg.stats.status.window_sum(self.now_s, window_s).tolist()
            finished = s[TASK_OK] + s[TASK_ERROR] + s[TASK_TIMEOUT] + s[TASK_CRASHED]
            return finished, s[TASK_ERROR] + s[TASK_TIMEOUT] + s[TASK_CRASHED]

        return self._part("status", window_s, make)  # type: ignore[return-value]

    def ops(self, window_s: int) -> tuple[tuple[Inst, ...], npt.NDArray[np.int64]]:
        """Known operations' keys and their `(finished, failed)` rows over the window."""

        def make() -> tuple[tuple[Inst, ...], npt.NDArray[np.int64]]:
            counter = self.agg.stats.ops
            block = counter.window_block(self.now_s, window_s)
            names = list(counter.keys.names)
            cols = list(range(len(names)))
            last = counter.keys.max_labels - 1
            if block[last, 0] or counter.totals[last, 0]:
                names.append(OVERFLOW_LABEL)
                cols.append(last)
            keys = tuple((("op", n),) for n in names)
            return keys, block[cols]

        return self._part("ops", window_s, make)  # type: ignore[return-value]

    def gauges(self, window_s: int) -> F64:
        """The pool gauges' `(sum, count)` rows over the window."""

        def make() -> F64:
            return np.asarray(self.agg.gauges.ring.window_sum(self.now_s, window_s), np.float64)

        return self._part("gauges", window_s, make)  # type: ignore[return-value]

    def gauge_mean(self, name: str, window_s: int) -> float | None:
        """One gauge's mean over the window, None without samples."""
        s, n = self.gauges(window_s)[self.agg.gauges.column(name)]
        return float(s / n) if n else None

    def latency(self, window_s: int, by: str | None) -> tuple[tuple[Inst, ...], F64]:
        """Every quantile in `QUANTILES` (seconds) per instance: shape `(instances, 5)`."""

        def make() -> tuple[tuple[Inst, ...], F64]:
            st = self.agg.stats
            rings: list[tuple[Inst, DistRing]]
            if by is None:
                rings = [((), st.latency)]
            else:
                rings = [
                    ((("op", st.ops.keys.name(col)),), ring)
                    for col, ring in sorted(st.op_latency.items())
                ]
            w = window_s if by is None else entity_window(window_s)
            got = [window_counts(dist, self.now_s, w) for _, dist in rings]
            out = np.full((len(rings), len(QUANTILES)), np.nan)
            have = [i for i, g in enumerate(got) if g is not None]
            if have:
                counts = np.stack([got[i][0] for i in have])  # type: ignore[index]
                lo = np.array([got[i][1] for i in have])  # type: ignore[index]
                hi = np.array([got[i][2] for i in have])  # type: ignore[index]
                out[have] = quantile_rows(counts, lo, hi)
            return tuple(k for k, _ in rings), out / NS_PER_S

        return self._part(f"lat:{by}", window_s, make)  # type: ignore[return-value]
