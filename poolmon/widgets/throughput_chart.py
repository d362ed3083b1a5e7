"""Tasks finished per second over the chosen window, as a line with relative time labels."""

from __future__ import annotations

from textual.reactive import reactive
from textual_plotext.plot import Plot

from poolmon.core.snapshot import PoolSnapshot
from poolmon.widgets import _format as fmt
from poolmon.widgets._chart import ThemedChart
from poolmon.widgets._series import gap_spans, nice_max, relative_points, segments, time_ticks


class ThroughputChart(ThemedChart):
    """A plotext line chart of `PoolSnapshot.throughput`; gaps are drawn as gaps, not zeros.

    The border title carries the current rate and the window, so the number is readable even
    when the chart is only a few rows high.
    """

    DEFAULT_CSS = """
    ThroughputChart {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    """

    snapshot: reactive[PoolSnapshot | None] = reactive(None, always_update=True, repaint=False)
    """The snapshot drawn; set by the screen on every refresh."""

    def watch_snapshot(self, snapshot: PoolSnapshot | None) -> None:
        """Update the border captions with the current figures."""
        if snapshot is None:
            self.border_title = "Throughput"
            self.border_subtitle = ""
            self.refresh_if_changed()
            return
        title = f"Throughput {fmt.rate(snapshot.throughput_per_s)}"
        if snapshot.data_until_ns is not None and snapshot.throughput_per_s is not None:
            title += " (last seen)"  # the rate while the link was up, not what it does now
        self.border_title = title
        self.border_subtitle = (
            f"last {fmt.window(snapshot.window_s)} · {fmt.count(snapshot.tasks_finished)} done"
        )
        self.refresh_if_changed()

    def data_key(self) -> object:
        """Redraw when the series or the second changes (slots are one second long)."""
        snap = self.snapshot
        if snap is None:
            return ("empty",)
        return (snap.window_s, snap.throughput, snap.taken_at_ns // 1_000_000_000)

    def draw(self, plt: Plot) -> None:
        """Draw the throughput line, shaded gaps and a relative time axis."""
        snapshot = self.snapshot
        window_s = snapshot.window_s if snapshot else 60
        width = max(10, self.size.width - 8)
        ticks, labels = time_ticks(window_s, max(2, width // 8))
        plt.xticks(ticks, labels)
        plt.xlim(-window_s, 0)
        self.x_range = (-window_s, 0.0)
        if snapshot is None or not snapshot.throughput.values:
            plt.ylim(0, 1)
            plt.yticks([0, 1], ["0", ""])
            return
        points = relative_points(snapshot.throughput, snapshot.taken_at_ns, width * 2)
        top = nice_max(points.y)
        plt.ylim(0, top)
        if self.size.height >= 12:
            plt.yticks([0, top / 2, top], ["0", fmt.count(top / 2), f"{fmt.count(top)}/s"])
        else:  # a few rows: a middle tick lands on an ambiguous row; label the ends only
            plt.yticks([0, top], ["0", f"{fmt.count(top)}/s"])  # tasks/s, as the title says
        self.draw_gaps(plt, gap_spans(points), 0.0, top)
        colour = self.colour("primary")
        for xs, ys in segments(points):
            plt.plot(xs, ys, color=colour, marker="braille")
