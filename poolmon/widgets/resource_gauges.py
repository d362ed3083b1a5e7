"""Pool CPU and memory, fds, queue depth and utilization as gauges coloured by threshold.

Utilization is drawn against the 60-80 % band a pool should live in: below it the pool is
oversized, above it tasks start to queue. The band is tinted on the gauge itself. The bar is
the latest reading; `low` / `high` and the colour judge the window's average, which is shown
beside it (an instant between two bursts says nothing about whether the pool is sized right).
The pool's CPU is counted in cores (its process plus every live worker) against its workers.
"""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from poolmon.core.snapshot import PoolSnapshot
from poolmon.widgets import _format as fmt
from poolmon.widgets._caption_room import caption_room
from poolmon.widgets._gauge import Thresholds, gauge_bar
from poolmon.widgets._gauge_layout import GaugeLayout, GaugeRow, gauge_layout, host_caption
from poolmon.widgets._theme import theme_colour, theme_hex

HEALTHY_BAND = (0.60, 0.80)
"""The utilization range a pool should sit in (seed design: score distance from this band)."""

CPU = Thresholds(warn=0.75, crit=0.90)
"""Fraction of the pool's cores in use (seed design: 75 % warn, 90 % critical)."""
MEMORY = Thresholds(warn=0.80, crit=0.90)
"""Machine memory in use."""
FDS = Thresholds(warn=0.50, crit=0.80)
"""Open descriptors as a fraction of the common 1024 soft limit."""
QUEUE = Thresholds(warn=1, crit=50)
"""Tasks waiting (seed design: any queue for long is a warning, more than 50 critical)."""

GAUGE_ROWS = 5
"""CPU, memory, fds, queue, utilization; the host line is the sixth."""

FD_SOFT_LIMIT = 1024
"""The usual `ulimit -n`; the fd gauge is scaled against it."""


def pool_cpu_percent(snap: PoolSnapshot) -> float | None:
    """CPU of the whole pool: its own process plus every live worker (% of one core)."""
    parts = [w.cpu_percent for w in snap.workers if w.alive and w.cpu_percent is not None]
    if snap.resources.pool_cpu_percent is not None:
        parts.append(snap.resources.pool_cpu_percent)
    return sum(parts) if parts else None


class ResourceGauges(Widget):
    """One gauge per resource, each a label, a bar and the value in words."""

    DEFAULT_CSS = """
    ResourceGauges {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: auto;
        min-height: 7;
        padding: 0 1;
    }
    """

    snapshot: reactive[PoolSnapshot | None] = reactive(None, always_update=True)
    """The snapshot drawn; set by the screen on every refresh."""

    def on_mount(self) -> None:
        """Name the panel."""
        self.border_title = "Resources"

    def render(self) -> RenderResult:
        """Draw the gauges for the current snapshot, in the widest form that fits whole."""
        snap = self.snapshot or PoolSnapshot()
        res = snap.resources
        workers = max(1, snap.size or 0)
        pool_cpu = pool_cpu_percent(snap)
        cpu_fraction = None if pool_cpu is None else pool_cpu / (100 * workers)
        memory_fraction = None if res.memory_percent is None else res.memory_percent / 100
        rss = None
        if res.pool_rss_bytes is not None or res.workers_rss_bytes is not None:
            rss = (res.pool_rss_bytes or 0) + (res.workers_rss_bytes or 0)
        fd_fraction = None if res.fds is None else res.fds / FD_SOFT_LIMIT
        queue = snap.queue_depth
        queue_fraction = None if queue is None else queue / max(queue, 4 * workers, 1)
        now, mean = snap.utilization, snap.load.utilization_mean
        cores = fmt.cores(pool_cpu)
        words = [
            GaugeRow("CPU", "CPU", cores + ("" if snap.size is None else f" of {workers}"), cores),
            GaugeRow("Memory", "Mem", fmt.size_bytes(rss), fmt.size_bytes(rss)),
            GaugeRow("FDs", "FDs", _with(fds := fmt.count(res.fds), res.fds, " open"), fds),
            GaugeRow(
                "Queue", "Queue", _with(waiting := fmt.count(queue), queue, " waiting"), waiting
            ),
            GaugeRow(
                "Util",
                "Util",
                utilization_text(now, mean, False),
                utilization_text(now, mean, True),
            ),
        ]
        layout = gauge_layout(words, self.content_size.width)
        gauges = [
            (cpu_fraction, CPU.level(cpu_fraction or 0), None),
            (memory_fraction, MEMORY.level(memory_fraction or 0), None),
            (fd_fraction, FDS.level(fd_fraction or 0), None),
            (queue_fraction, QUEUE.level(queue or 0), None),
            (now, utilization_level(mean if mean is not None else now), HEALTHY_BAND),
        ]
        rows: list[Text] = [
            self._row(layout, i, fraction, level, band)
            for i, (fraction, level, band) in enumerate(gauges)
        ]
        if self._host_in_body():
            label = f"{'Host':<{layout.label_width}}"
            line = host_caption(*host_figures(snap), self.content_size.width, prefix=label)
            rows.append(Text(line, style=Style(color=theme_hex(self.app, "text-muted"))))
        return Group(*rows[: max(1, self.content_size.height)])

    def watch_snapshot(self) -> None:
        """Keep the host caption in step with the data; a lost link makes the title say so."""
        lost = self.snapshot is not None and self.snapshot.data_until_ns is not None
        title = "Resources (last seen)" if lost else "Resources"
        if self.border_title != title:
            self.border_title = title
        self._update_caption()

    def on_resize(self) -> None:
        """The host line moves between the body and the border with the height."""
        self._update_caption()

    def _host_in_body(self) -> bool:
        return self.content_size.height > GAUGE_ROWS

    def _update_caption(self) -> None:
        """Without a row for it, the bottom border carries the host line (a form that fits)."""
        caption = ""
        if self.snapshot is not None and self.is_mounted and not self._host_in_body():
            caption = host_caption(*host_figures(self.snapshot), caption_room(self))
        if (self.border_subtitle or "") != caption:  # setting it repaints, even unchanged
            self.border_subtitle = caption

    def _level_style(self, level: str) -> Style:
        name = {"ok": "success", "warning": "warning", "critical": "error"}[level]
        return Style(color=theme_hex(self.app, name))

    def _row(
        self,
        layout: GaugeLayout,
        index: int,
        fraction: float | None,
        level: str,
        band: tuple[float, float] | None,
    ) -> Text:
        line = Text(f"{layout.labels[index]:<{layout.label_width}}", no_wrap=True)
        band_style = None
        if band is not None:
            tint = theme_colour(self.app, "success").blend(
                theme_colour(self.app, "background"), 0.75
            )
            band_style = Style(bgcolor=tint.hex6)
        if layout.bar_width > 0:
            bar = gauge_bar(
                fraction,
                layout.bar_width,
                self._level_style(level),
                band=band,
                band_style=band_style,
            )
            line.append_text(bar)
            line.append(" ")
        line.append(layout.values[index], style=self._level_style(level) if level != "ok" else None)
        return line


def host_figures(snap: PoolSnapshot) -> tuple[str, str, str]:
    """The machine's CPU, load average and swap, as shown ("—" without data)."""
    res = snap.resources
    machine_cpu = None if res.machine_cpu_percent is None else res.machine_cpu_percent / 100
    swap = None if res.swap_percent is None else res.swap_percent / 100
    load = fmt.NO_DATA if res.load1 is None else f"{res.load1:.2f}"
    return fmt.percent(machine_cpu), load, fmt.percent(swap)


def _with(text: str, value: object, unit: str) -> str:
    """`24 open`, or the bare "—" when there is no value (no unit words after no data)."""
    return text if value is None else text + unit


def utilization_level(judged: float | None) -> str:
    """The colour level of the utilization gauge, judged on the window's average.

    Outside the healthy band is a warning (well below it: an oversized pool; above it:
    tasks start to queue); above 95 % critical.
    """
    if judged is None:
        return "ok"
    if judged > 0.95:
        return "critical"
    if judged > HEALTHY_BAND[1] or judged < HEALTHY_BAND[0] * 0.5:
        return "warning"
    return "ok"


def utilization_text(now: float | None, mean: float | None, narrow: bool) -> str:
    """`44% · avg 52% low`: the latest reading, the window's mean and the mean's verdict.

    Narrow, the bar is the latest reading and the text the mean (`avg 52% low`).
    """
    where = ""
    if mean is not None:
        where = " low" if mean < HEALTHY_BAND[0] else " high" if mean > HEALTHY_BAND[1] else ""
    avg = f"avg {fmt.percent(mean)}{where}"
    return avg if narrow else f"{fmt.percent(now)} · {avg}"
