"""Pure helpers that turn a snapshot `Series` into what a terminal chart can draw.

A chart is at most a few hundred cells wide, while a one-hour window at one-second slots holds
3,600 points: `downsample` averages neighbours (gaps stay gaps), `segments` splits the line at
gaps so a missing stretch is drawn as nothing rather than as a zero, `gap_spans` finds the
stretches to shade as gaps (never the time before the first data), and `time_ticks` places
relative labels (`-5m` ... `now`) that read the same whatever the wall clock says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from poolmon.core.snapshot import Series
from poolmon.widgets._format import span


@dataclass(frozen=True, slots=True)
class Points:
    """A series placed on a relative time axis: `x` is seconds before the snapshot (<= 0)."""

    x: tuple[float, ...]
    y: tuple[float | None, ...]


def relative_points(series: Series, now_ns: int, max_points: int) -> Points:
    """Place a series' points at seconds relative to `now_ns`, averaged down to `max_points`.

    A trailing slot that is still filling (it ends after `now_ns`) is left out: drawn, it
    would look like a sudden drop to almost nothing at the right edge of every chart.
    """
    values = series.values
    complete = (now_ns - series.start_ns) // series.step_ns if series.step_ns > 0 else len(values)
    values = values[: max(0, min(len(values), complete))]
    group = max(1, -(-len(values) // max(1, max_points)))  # ceil division
    xs: list[float] = []
    ys: list[float | None] = []
    for first in range(0, len(values), group):
        chunk = values[first : first + group]
        present = [v for v in chunk if v is not None]
        mid_index = first + (len(chunk) - 1) / 2
        t_ns = series.start_ns + mid_index * series.step_ns + series.step_ns / 2
        xs.append((t_ns - now_ns) / 1e9)
        ys.append(sum(present) / len(present) if present else None)
    return Points(tuple(xs), tuple(ys))


def segments(points: Points) -> list[tuple[list[float], list[float]]]:
    """Split points into runs without gaps; each run is `(xs, ys)`."""
    runs: list[tuple[list[float], list[float]]] = []
    current: tuple[list[float], list[float]] | None = None
    for x, y in zip(points.x, points.y, strict=True):
        if y is None:
            current = None
            continue
        if current is None:
            current = ([], [])
            runs.append(current)
        current[0].append(x)
        current[1].append(y)
    return runs


TRAILING_GAP_S = 5.0
"""A run of missing points at the right edge is a gap only once it is this long.

The aggregator counts a silence of up to 5 s as covered once the next message arrives, so
the newest second or two may be briefly uncovered while everything is fine; marking them
would flash a gap at the right edge of every chart of a quiet pool.
"""


def gap_spans(points: Points, trailing_s: float = TRAILING_GAP_S) -> list[tuple[float, float]]:
    """The x ranges where data is missing *between* data (a disconnection, lost events).

    Time before the first point with data is not a gap: the pool had not started, or the
    monitor had not attached yet. Those points are simply left blank. Each span covers the
    missing points' own slots (half a step either side), so it can be shaded edge to edge;
    a run at the right edge counts only once it is `trailing_s` long.
    """
    xs, ys = points.x, points.y
    first = next((i for i, y in enumerate(ys) if y is not None), None)
    if first is None:
        return []
    half = (xs[1] - xs[0]) / 2 if len(xs) > 1 else 0.5
    spans: list[tuple[float, float]] = []
    start: int | None = None
    for i in range(first, len(ys)):
        if ys[i] is None and start is None:
            start = i
        elif ys[i] is not None and start is not None:
            spans.append((xs[start] - half, xs[i - 1] + half))
            start = None
    if start is not None and xs[-1] - xs[start] + 2 * half >= trailing_s:
        spans.append((xs[start] - half, xs[-1] + half))
    return spans


def bridge(points: Points, max_run: int) -> Points:
    """Fill runs of at most `max_run` missing points between data with the previous value.

    For sampled levels (memory): a sample that landed in the next slot leaves a hole that is
    jitter, not a gap. Longer runs, and the time before the first sample, stay missing.
    """
    ys = list(points.y)
    i = next((k for k, y in enumerate(ys) if y is not None), len(ys))
    while i < len(ys):
        if ys[i] is not None:
            i += 1
            continue
        j = i
        while j < len(ys) and ys[j] is None:
            j += 1
        if j < len(ys) and j - i <= max_run:
            ys[i:j] = [ys[i - 1]] * (j - i)
        i = j
    return Points(points.x, tuple(ys))


def gauge_range(values: Sequence[float | None]) -> tuple[float, float]:
    """A y range around a level's own spread (not from zero), so small drifts show."""
    present = [v for v in values if v is not None]
    if not present:
        return 0.0, 1.0
    lo, hi = min(present), max(present)
    pad = max((hi - lo) * 0.15, abs(hi) * 0.02, 1e-9)
    return max(0.0, lo - pad), hi + pad


_TICK_STEPS_S = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def time_ticks(window_s: int, max_ticks: int) -> tuple[list[float], list[str]]:
    """Relative tick positions (seconds, <= 0) and labels for a window, ending at `now`."""
    max_ticks = max(2, max_ticks)
    step = next((s for s in _TICK_STEPS_S if window_s / s <= max_ticks - 1), _TICK_STEPS_S[-1])
    ticks: list[float] = []
    labels: list[str] = []
    t = -((window_s // step) * step)
    while t <= 0:
        ticks.append(float(t))
        labels.append("now" if t == 0 else _relative_label(-t))
        t += step
    return ticks, labels


def _relative_label(seconds: int) -> str:
    """`seconds` ago, in one format for every label (`-1m`, `-4m30s`, `-1h`)."""
    return f"-{span(seconds)}"


def nice_max(values: Sequence[float | None]) -> float:
    """A round upper bound for a y axis (a few steps per power of ten), at least 1."""
    top = max((v for v in values if v is not None), default=0.0)
    if top <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(top))) / 10 if top >= 1 else 1.0
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if top <= factor * magnitude:
            return float(factor * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop covers every case
