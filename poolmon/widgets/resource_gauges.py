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
from poolmon.widgets._gauge import Thresholds, gauge_bar
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

FD_SOFT_LIMIT = 1024
"""The usual `ulimit -n`; the fd gauge is scaled against it."""

_LABEL_WIDTH = 7


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
        """Draw the gauges for the current snapshot."""
        snap = self.snapshot or PoolSnapshot()
        res = snap.resources
        narrow = self.content_size.width < 44
        value_width = 11 if narrow else 18
        bar_width = max(4, self.content_size.width - _LABEL_WIDTH - value_width - 2)
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
        rows = [
            self._row(
                "CPU",
                cpu_fraction,
                CPU.level(cpu_fraction or 0),
                fmt.cores(pool_cpu) + ("" if narrow or snap.size is None else f" of {workers}"),
                bar_width,
            ),
            self._row(
                "Memory",
                memory_fraction,
                MEMORY.level(memory_fraction or 0),
                fmt.size_bytes(rss),
                bar_width,
            ),
            self._row(
                "FDs",
                fd_fraction,
                FDS.level(fd_fraction or 0),
                fmt.count(res.fds) + ("" if narrow or res.fds is None else " open"),
                bar_width,
            ),
            self._row(
                "Queue",
                queue_fraction,
                QUEUE.level(queue or 0),
                fmt.count(queue) + ("" if narrow or queue is None else " waiting"),
                bar_width,
            ),
            self._utilization_row(snap.utilization, snap.load.utilization_mean, bar_width, narrow),
        ]
        machine_cpu = None if res.machine_cpu_percent is None else res.machine_cpu_percent / 100
        swap = None if res.swap_percent is None else res.swap_percent / 100
        load = fmt.NO_DATA if res.load1 is None else f"{res.load1:.2f}"
        machine = Text(
            f"{'Host':<{_LABEL_WIDTH}}cpu {fmt.percent(machine_cpu)} · load {load}"
            f" · swap {fmt.percent(swap)}",
            style=Style(color=theme_hex(self.app, "text-muted")),
            no_wrap=True,
            overflow="ellipsis",
        )
        rows.append(machine)
        return Group(*rows[: max(1, self.content_size.height)])

    def _level_style(self, level: str) -> Style:
        name = {"ok": "success", "warning": "warning", "critical": "error"}[level]
        return Style(color=theme_hex(self.app, name))

    def _row(self, label: str, fraction: float | None, level: str, value: str, width: int) -> Text:
        line = Text(f"{label:<{_LABEL_WIDTH}}", no_wrap=True, overflow="ellipsis")
        line.append_text(gauge_bar(fraction, width, self._level_style(level)))
        line.append(f" {value}", style=self._level_style(level) if level != "ok" else None)
        return line

    def _utilization_row(
        self, now: float | None, mean: float | None, width: int, narrow: bool
    ) -> Text:
        """The latest reading as the bar; the band verdict and colour from the window's mean."""
        judged = mean if mean is not None else now
        if judged is None:
            level = "ok"
        elif judged > 0.95:
            level = "critical"
        elif judged > HEALTHY_BAND[1] or judged < HEALTHY_BAND[0] * 0.5:
            level = "warning"
        else:
            level = "ok"
        band_colour = theme_colour(self.app, "success").blend(
            theme_colour(self.app, "background"), 0.75
        )
        line = Text(f"{'Util':<{_LABEL_WIDTH}}", no_wrap=True)
        line.append_text(
            gauge_bar(
                now,
                width,
                self._level_style(level),
                band=HEALTHY_BAND,
                band_style=Style(bgcolor=band_colour.hex6),
            )
        )
        line.append(
            f" {utilization_text(now, mean, narrow)}",
            style=self._level_style(level) if level != "ok" else None,
        )
        return line


def utilization_text(now: float | None, mean: float | None, narrow: bool) -> str:
    """`44% · avg 52% low`: the latest reading, the window's mean and the mean's verdict.

    Narrow, the bar is the latest reading and the text the mean (`avg 52% low`).
    """
    where = ""
    if mean is not None:
        where = " low" if mean < HEALTHY_BAND[0] else " high" if mean > HEALTHY_BAND[1] else ""
    avg = f"avg {fmt.percent(mean)}{where}"
    return avg if narrow else f"{fmt.percent(now)} · {avg}"
