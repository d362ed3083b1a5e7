"""`PoolSummary`: one pool's figures in the pools overview, read cheaply from its aggregator.

With twenty pools attached, building twenty full `PoolSnapshot`s every tick (every worker's
view and series, every operation, error series per type) would spend the frame budget on
figures nobody sees. The pools overview needs a handful of numbers per pool, so
`summarize_pool` reads only those: the window's status counts, the latency sketch's p99, the
latest size and busy gauges, the alert view's firing count and the window's throughput series
for the sparkline. Its cost does not grow with the pool's workers or operations. Pure: the
caller holds whatever lock guards the aggregator. `PoolRow` adds what the fleet knows of the
pool's connection (poolmon.runtime.fleet fills it), and is all the pools overview renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from poolmon.core.batchview import NS_PER_S
from poolmon.core.distring import summarize
from poolmon.core.metric_series import series
from poolmon.core.queries import _status_counts, covered_time_s, window_first_s
from poolmon.core.snapshot import PoolInfo, Series

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator


@dataclass(frozen=True, slots=True)
class PoolSummary:
    """The pools overview's figures for one pool over a window (None: no data, never 0).

    Attributes:
        taken_at_ns: When it was read (the aggregator's clock).
        window_s: The window the rates and percentiles cover.
        pool: Who the pool is (from the handshake; empty before it).
        size, busy: The latest pool status (None before the first).
        tasks_finished: Tasks finished in the window.
        throughput_per_s: Finished per second over the covered part of the window.
        p99_ns: The window's p99 task latency (None with fewer than 5 tasks: not a p99).
        error_rate: Failed / finished over the window (None with nothing finished).
        alerts_firing: Alerts firing now (None: the pool sent no alert state yet).
        critical_firing: Whether a firing alert is critical.
        throughput: Tasks/s per complete slot of the window, for the sparkline.
        pool_state: The aggregator's view: running, terminated or unknown.
        restarts: Pool restarts seen since attaching.
        data_until_ns: While the link is down: the time of the last data.
    """

    taken_at_ns: int = 0
    window_s: int = 60
    pool: PoolInfo = field(default_factory=PoolInfo)
    size: int | None = None
    busy: int | None = None
    tasks_finished: int = 0
    throughput_per_s: float | None = None
    p99_ns: float | None = None
    error_rate: float | None = None
    alerts_firing: int | None = None
    critical_firing: bool = False
    throughput: Series = field(default_factory=Series)
    pool_state: str = "unknown"
    restarts: int = 0
    data_until_ns: int | None = None


CONDITIONS: tuple[str, ...] = (
    "live",
    "restarted",
    "connecting",
    "stale",
    "connection lost",
    "exited",
)
"""What the pools overview says of a pool, healthiest first (the state column's sort order)."""


@dataclass(frozen=True, slots=True)
class PoolRow:
    """One pool as the pools overview shows it.

    Attributes:
        key: Identifies the pool in the fleet (its socket path or ssh:// URL).
        label: Its short name.
        condition: One of `CONDITIONS`.
        detail: The monitor's words about the connection (why it dropped, retrying when).
        summary: The figures over the window.
        gone_at_ns: When its socket was found gone (None: present, or not a local socket).
        discovered: Found by `--all` rather than named.
        dropped: Records lost in transport since attaching.
    """

    key: str
    label: str
    condition: str
    detail: str
    summary: PoolSummary
    gone_at_ns: int | None = None
    discovered: bool = False
    dropped: int = 0


MIN_TASKS_FOR_P99 = 5
"""Fewer tasks than this have no meaningful p99 (the app shows `n=3` elsewhere)."""


def summarize_pool(agg: Aggregator, window_s: int) -> PoolSummary:
    """The pools overview's row for `agg` over the last `window_s` seconds (see module doc)."""
    now = agg.now_ns()
    now_s = now // NS_PER_S
    st = agg.stats
    finished, failed, _, _ = _status_counts(agg, now_s, window_s)
    ring = st.status.for_window(window_s)
    first_s = window_first_s(st.status, now_s, window_s)
    covered = covered_time_s(agg, first_s, now)
    counts, total, lo, hi = st.latency.window_counts(now_s, window_s)
    p99 = summarize(counts, total, lo, hi).p99_ns if total >= MIN_TASKS_FOR_P99 else None
    g = agg.gauges.latest
    size, busy = g.get("size"), g.get("busy")
    view = agg.alert_state.view
    firing = None
    critical = False
    if view is not None:
        hot = [a for a in view.alerts if a.display_state == "firing"]
        firing = len(hot)
        critical = any(a.severity == "critical" for a in hot)
    end_s = max(now_s - now_s % ring.slot_s, first_s + ring.slot_s)  # complete slots only
    return PoolSummary(
        taken_at_ns=now,
        window_s=window_s,
        pool=agg.pool,
        size=None if size is None else int(size),
        busy=None if busy is None else int(busy),
        tasks_finished=finished,
        throughput_per_s=finished / covered if covered else None,
        p99_ns=p99,
        error_rate=failed / finished if finished else None,
        alerts_firing=firing,
        critical_firing=critical,
        throughput=series(agg, "throughput", first_s * NS_PER_S, end_s * NS_PER_S, ring.slot_s),
        pool_state=agg.pool_state,
        restarts=agg.pool_restarts,
        data_until_ns=agg.data_until_ns,
    )
