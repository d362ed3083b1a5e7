"""A line chart of any one `Series` (a worker's throughput, its memory) over the window."""

from __future__ import annotations

from collections.abc import Callable

from textual.reactive import reactive
from textual_plotext.plot import Plot

from poolmon.core.snapshot import Series
from poolmon.widgets import _format as fmt
from poolmon.widgets._chart import ThemedChart
from poolmon.widgets._series import (
    bridge,
    gap_spans,
    gauge_range,
    nice_max,
    relative_points,
    segments,
    time_ticks,
)

GAUGE_BRIDGE_POINTS = 2
"""Missing samples in a row that a gauge line bridges (sampling jitter, not a gap)."""


class SeriesChart(ThemedChart):
    """A titled braille line of a series ending at `now_ns`, y labels in the series' unit."""

    DEFAULT_CSS = """
    SeriesChart {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    """

    series: reactive[Series] = reactive(Series, always_update=True, repaint=False)
    """The data drawn."""

    now_ns: reactive[int] = reactive(0)
    """The right edge of the chart (the snapshot's time)."""

    window_s: reactive[int] = reactive(60)
    """The width of the chart in seconds."""

    def __init__(
        self,
        title: str,
        value_format: Callable[[float | None], str] = fmt.count,
        *,
        colour: str = "primary",
        gauge: bool = False,
        unit: str = "",
        id: str | None = None,  # noqa: A002
    ) -> None:
        """A chart titled `title`; `gauge` for sampled levels (memory), not per-second counts.

        `unit` follows the top y label (`/s` for rates), so the axis says what it counts.

        A gauge's y axis spans its own range rather than starting at zero (a slow leak of a
        few MiB on a 40 MiB process is a visible slope, not a flat line), and a sample or two
        missing between others is bridged rather than shown as a gap.
        """
        super().__init__(id=id)
        self._gauge = gauge
        self._title = title
        self._format = value_format
        self._colour = colour
        self._unit = unit

    def on_mount(self) -> None:
        """Set the title."""
        self.border_title = self._title

    def watch_series(self, series: Series) -> None:
        """Show the latest value in the subtitle."""
        latest = next((v for v in reversed(series.values) if v is not None), None)
        # a rate names its slot ("last 1s"), so it is not mistaken for the window's average
        # the summary shows; a gauge's latest sample is just that
        when = "latest" if self._gauge else f"last {fmt.span(series.step_ns // 1_000_000_000)}:"
        shown = f"{when} {self._format(latest)}{self._unit}"
        self.border_subtitle = shown if latest is not None else ""
        self.refresh_if_changed()

    def data_key(self) -> object:
        """Redraw when the series, the window or the second changes."""
        return (self.window_s, self.series, self.now_ns // 1_000_000_000)

    def draw(self, plt: Plot) -> None:
        """Draw the line, shaded gaps and a relative time axis."""
        width = max(10, self.size.width - 8)
        ticks, labels = time_ticks(self.window_s, max(2, width // 8))
        plt.xticks(ticks, labels)
        plt.xlim(-self.window_s, 0)
        self.x_range = (-self.window_s, 0.0)
        points = relative_points(self.series, self.now_ns, width * 2)
        if self._gauge:
            points = bridge(points, GAUGE_BRIDGE_POINTS)
            bottom, top = gauge_range(points.y)
        else:
            bottom, top = 0.0, nice_max(points.y)
        plt.ylim(bottom, top)
        labels = [self._format(bottom) if bottom else "0", self._format(top) + self._unit]
        plt.yticks([bottom, top], labels)
        self.draw_gaps(plt, gap_spans(points), bottom, top)
        colour = self.colour(self._colour)
        for xs, ys in segments(points):
            plt.plot(xs, ys, color=colour, marker="braille")
