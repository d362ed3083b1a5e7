"""Draw a latency distribution over a log-scaled axis, with p50/p95/p99 marked: pure code.

The aggregator's histogram has fine log buckets (about 2 % wide); a terminal has a few dozen
columns. `rebin` spreads each source bucket's count over the display columns it overlaps (in
log space), `nice_range` snaps the axis to 1-2-5 values so it does not jitter between frames, and
`render_histogram` returns the rows as Rich `Text`: bars in eighth blocks coloured by percentile
band (body, p50-p95, p95-p99, beyond p99), a dotted marker line per percentile, the marker labels
and a duration axis. No widget, no app: tests call it with plain values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text

from poolmon.core.snapshot import Histogram, LatencySummary
from poolmon.widgets import _format as fmt

_EIGHTHS = " ▁▂▃▄▅▆▇█"
_NICE = (1.0, 2.0, 5.0)
_ROUND_ZEROS = re.compile(r"\.0+(?=\D)")  # "20.0ms" -> "20ms" on axis ticks


@dataclass(frozen=True, slots=True)
class HistogramStyles:
    """The styles the histogram draws with (taken from the app theme by the widget)."""

    body: Style = field(default_factory=lambda: Style(color="blue"))
    mid: Style = field(default_factory=lambda: Style(color="cyan"))
    tail: Style = field(default_factory=lambda: Style(color="yellow"))
    extreme: Style = field(default_factory=lambda: Style(color="red"))
    axis: Style = field(default_factory=lambda: Style(dim=True))
    p50: Style = field(default_factory=lambda: Style(color="green", bold=True))
    p95: Style = field(default_factory=lambda: Style(color="yellow", bold=True))
    p99: Style = field(default_factory=lambda: Style(color="red", bold=True))


def nice_range(lo_ns: float, hi_ns: float) -> tuple[float, float]:
    """Snap `[lo, hi]` outwards to 1-2-5 values (at least a factor of 2 apart)."""
    lo_ns = max(lo_ns, 1.0)
    hi_ns = max(hi_ns, lo_ns * 1.0001)
    lo_exp = math.floor(math.log10(lo_ns))
    lo = max(m * 10**lo_exp for m in _NICE if m * 10**lo_exp <= lo_ns)
    hi_exp = math.floor(math.log10(hi_ns))
    candidates = [m * 10**e for e in (hi_exp, hi_exp + 1) for m in _NICE]
    hi = min(c for c in candidates if c >= hi_ns)
    if hi / lo < 2:
        hi = lo * 2
    return float(lo), float(hi)


def rebin(
    edges_ns: Sequence[float], counts: Sequence[int], lo: float, hi: float, n: int
) -> list[float]:
    """Spread source bucket counts over `n` log-spaced columns covering `[lo, hi)`."""
    out = [0.0] * n
    if n <= 0:
        return out
    log_lo = math.log(lo)
    span = math.log(hi) - log_lo
    for i, c in enumerate(counts):
        if not c:
            continue
        a = (math.log(max(edges_ns[i], 1e-9)) - log_lo) / span * n
        b = (math.log(max(edges_ns[i + 1], 1e-9)) - log_lo) / span * n
        a, b = max(a, 0.0), min(b, float(n))
        if b <= a:  # entirely outside the axis: clamp into the edge column
            out[0 if b <= 0 else n - 1] += c
            continue
        first, last = int(a), min(math.ceil(b) - 1, n - 1)
        width = b - a
        for col in range(first, last + 1):
            overlap = min(b, col + 1) - max(a, col)
            if overlap > 0:
                out[col] += c * overlap / width
    return out


def axis_ticks(lo: float, hi: float) -> list[float]:
    """The 1-2-5 durations inside `[lo, hi]`, for labelling the x axis."""
    ticks = []
    exp = math.floor(math.log10(lo))
    while 10**exp <= hi * 10:
        for m in _NICE:
            v = m * 10**exp
            if lo <= v <= hi * 1.0001:
                ticks.append(float(v))
        exp += 1
    return ticks


def render_histogram(
    histogram: Histogram,
    latency: LatencySummary,
    width: int,
    height: int,
    styles: HistogramStyles | None = None,
) -> list[Text]:
    """Return `height` rows of `width` cells drawing the distribution.

    Rows: bars (with marker lines), one row of percentile labels, one row of axis labels.
    """
    st = styles or HistogramStyles()
    if width < 12 or height < 4:
        return [Text(" " * max(width, 0)) for _ in range(max(height, 0))]
    used = [i for i, c in enumerate(histogram.counts) if c]
    if not used or len(histogram.edges_ns) != len(histogram.counts) + 1:
        blank = [Text(" " * width) for _ in range(height)]
        blank[height // 2] = Text("no finished tasks in this window".center(width), style=st.axis)
        return blank
    lo, hi = nice_range(histogram.edges_ns[used[0]], histogram.edges_ns[used[-1] + 1])
    label_w = 5
    cols = width - label_w - 1
    bar_rows = height - 2
    values = rebin(histogram.edges_ns, histogram.counts, lo, hi, cols)
    peak = max(values) or 1.0

    def column_of(ns: float | None) -> int | None:
        if ns is None or ns <= 0:
            return None
        pos = (math.log(ns) - math.log(lo)) / (math.log(hi) - math.log(lo)) * cols
        return min(max(int(pos), 0), cols - 1)

    markers = {
        name: column_of(value)
        for name, value in (
            ("p50", latency.p50_ns),
            ("p95", latency.p95_ns),
            ("p99", latency.p99_ns),
        )
    }
    marker_style = {"p50": st.p50, "p95": st.p95, "p99": st.p99}
    marker_at = {col: name for name, col in markers.items() if col is not None}

    def band(col: int) -> Style:
        p50, p95, p99 = markers["p50"], markers["p95"], markers["p99"]
        if p99 is not None and col > p99:
            return st.extreme
        if p95 is not None and col > p95:
            return st.tail
        if p50 is not None and col > p50:
            return st.mid
        return st.body

    eighths = [
        0 if v <= 0 else max(1, round(v / peak * bar_rows * 8)) for v in values
    ]  # any non-empty column shows at least a sliver, so a rare tail stays visible
    rows: list[Text] = []
    for r in range(bar_rows):
        level_from_bottom = bar_rows - 1 - r
        if r == 0:
            label = fmt.count(peak)
        elif r == bar_rows - 1:
            label = "0"
        else:
            label = ""
        line = Text(label.rjust(label_w)[:label_w] + "│", style=st.axis)
        for col in range(cols):
            filled = eighths[col] - level_from_bottom * 8
            if filled >= 8:
                line.append("█", style=band(col))
            elif filled > 0:
                line.append(_EIGHTHS[filled], style=band(col))
            elif col in marker_at:
                line.append("┊", style=marker_style[marker_at[col]])
            else:
                line.append(" ")
        rows.append(line)
    rows.append(_marker_row(markers, marker_style, label_w, cols, st))
    rows.append(_axis_row(lo, hi, label_w, cols, st))
    return rows


def _marker_row(
    markers: dict[str, int | None],
    styles: dict[str, Style],
    label_w: int,
    cols: int,
    st: HistogramStyles,
) -> Text:
    cells: list[tuple[str, Style | None]] = [(" ", None)] * cols
    taken_until = -1
    for name in ("p50", "p95", "p99"):
        col = markers[name]
        if col is None:
            continue
        label = "▲" + name
        start = max(col, taken_until + 1)
        if start + len(label) > cols:
            start = max(taken_until + 1, cols - len(label))
        if start + len(label) > cols or start < 0:
            continue
        for k, ch in enumerate(label):
            cells[start + k] = (ch, styles[name])
        taken_until = start + len(label)
    line = Text(" " * label_w + "└", style=st.axis)
    for ch, style in cells:
        line.append(ch, style=style)
    return line


def _axis_row(lo: float, hi: float, label_w: int, cols: int, st: HistogramStyles) -> Text:
    chars = [" "] * cols
    taken_until = -1
    span = math.log(hi) - math.log(lo)
    ticks = axis_ticks(lo, hi)
    if len(ticks) * 7 > cols:  # too dense for 1-2-5: label the decades only
        decades = [t for t in ticks if math.isclose(10 ** round(math.log10(t)), t)]
        ticks = decades if len(decades) >= 2 else ticks[:: max(1, len(ticks) // 3)]
    for tick in ticks:
        col = min(int((math.log(tick) - math.log(lo)) / span * cols), cols - 1)
        label = _ROUND_ZEROS.sub("", fmt.duration(tick))
        start = min(col, cols - len(label))
        if start <= taken_until + 1 and taken_until >= 0:
            continue
        for k, ch in enumerate(label):
            chars[start + k] = ch
        taken_until = start + len(label)
    return Text(" " * (label_w + 1) + "".join(chars), style=st.axis)
