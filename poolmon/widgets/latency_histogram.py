"""The latency distribution: log-scaled buckets, p50/p95/p99 marked, tail bands coloured.

No monitor in the field draws one; averages hide the bimodal shapes and long tails that make a
pool feel slow, and a percentile alone does not say whether the tail is a few outliers or a
second mode. The drawing itself is the pure `render_histogram`; this widget only picks theme
styles and hands it the current snapshot's histogram at the widget's size.
"""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from poolmon.core.snapshot import Histogram, LatencySummary
from poolmon.widgets import _format as fmt
from poolmon.widgets._histogram_render import HistogramStyles, render_histogram
from poolmon.widgets._theme import theme_colour, theme_hex


class LatencyHistogram(Widget):
    """Task latency over the window as a histogram over log-spaced columns.

    The border title shows the sample count and the subtitle the exact p50/p95/p99/max, so
    the markers on the axis can be read precisely.
    """

    DEFAULT_CSS = """
    LatencyHistogram {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: 1fr;
        min-height: 6;
        padding: 0 1 0 0;
    }
    """

    histogram: reactive[Histogram] = reactive(Histogram)
    """Counts over log buckets, from `PoolSnapshot.latency_histogram`."""

    latency: reactive[LatencySummary] = reactive(LatencySummary)
    """The matching percentiles, from `PoolSnapshot.latency`."""

    label: reactive[str] = reactive("")
    """Whose latency it is, when not the whole pool's (an operation's name)."""

    def watch_latency(self, latency: LatencySummary) -> None:
        """Show the exact figures in the border."""
        whose = f" · {self.label}" if self.label else ""
        self.border_title = f"Latency{whose}  n={fmt.count(latency.count)}"
        self._fit_subtitle()

    def watch_label(self) -> None:
        """Retitle."""
        self.watch_latency(self.latency)

    def on_resize(self) -> None:
        """Refit the figures in the border to the new width."""
        self._fit_subtitle()

    def _fit_subtitle(self) -> None:
        """p50/p95/p99/max in the bottom border, dropping the least useful part to fit.

        A border caption that does not fit is cut with an ellipsis, which at 80 columns cut
        the p99 itself; `max` goes first, then the separators.
        """
        latency = self.latency
        if not latency.count:
            self.border_subtitle = ""
            return
        if latency.count < fmt.FEW_VALUES:  # percentiles of 2 values mean nothing: show them
            low, high = fmt.duration(latency.min_ns), fmt.duration(latency.max_ns)
            values = low if latency.count == 1 else f"min {low} max {high}"
            self.border_subtitle = f"n={latency.count}: {values}"
            return
        parts = [
            f"p50 {fmt.duration(latency.p50_ns)}",
            f"p95 {fmt.duration(latency.p95_ns)}",
            f"p99 {fmt.duration(latency.p99_ns)}",
            f"max {fmt.duration(latency.max_ns)}",
        ]
        room = self.size.width - 6
        for candidate in (" · ".join(parts), " ".join(parts), " · ".join(parts[:3])):
            if len(candidate) <= room or not self.size.width:
                self.border_subtitle = candidate
                return
        self.border_subtitle = " ".join(parts[:3])

    def render(self) -> RenderResult:
        """Draw the histogram at the content size."""
        rows = render_histogram(
            self.histogram,
            self.latency,
            self.content_size.width,
            self.content_size.height,
            self._styles_from_theme(),
        )
        return Group(*rows)

    def _styles_from_theme(self) -> HistogramStyles:
        def style(name: str, *, bold: bool = False) -> Style:
            return Style(color=theme_hex(self.app, name), bold=bold)

        mid = theme_colour(self.app, "primary").blend(theme_colour(self.app, "foreground"), 0.45)
        return HistogramStyles(
            body=style("primary"),
            mid=Style(color=mid.hex6),
            tail=style("warning"),
            extreme=style("error"),
            axis=style("text-muted"),
            p50=style("success", bold=True),
            p95=style("warning", bold=True),
            p99=style("error", bold=True),
        )
