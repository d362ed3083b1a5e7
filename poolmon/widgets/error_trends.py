"""Failed tasks per second over the window, one line per error type.

An error *rate* alone hides which failure is growing; one line per type (the four most common,
the rest folded into "other") shows a new exception appearing or a known one spiking.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.markup import escape
from textual.reactive import reactive
from textual_plotext.plot import Plot

from poolmon.core.snapshot import PoolSnapshot, Series
from poolmon.widgets import _format as fmt
from poolmon.widgets._caption_room import caption_room
from poolmon.widgets._chart import ThemedChart
from poolmon.widgets._error_captions import error_title, fit_legend
from poolmon.widgets._series import nice_max, relative_points, segments, time_ticks
from poolmon.widgets._theme import theme_hex

MAX_LINES = 4
"""Error types drawn individually; the rest are summed into `other`."""

_PALETTE = ("error", "warning", "accent", "secondary", "primary")


def top_series(
    by_type: tuple[tuple[str, Series], ...], totals: dict[str, int]
) -> list[tuple[str, Series]]:
    """The `MAX_LINES` most frequent types (by window total), plus `other` for the rest."""
    ranked = sorted(by_type, key=lambda item: (-totals.get(item[0], 0), item[0]))
    keep, rest = ranked[:MAX_LINES], ranked[MAX_LINES:]
    if rest:
        keep.append(("other", _sum_series([s for _, s in rest])))
    return keep


def _other_total(lines: list[tuple[str, Series]], totals: dict[str, int]) -> int:
    named = {name for name, _ in lines}
    return sum(n for name, n in totals.items() if name not in named)


def _sum_series(series: list[Series]) -> Series:
    first = series[0]
    n = max(len(s.values) for s in series)
    values: list[float | None] = []
    for i in range(n):
        present = [s.values[i] for s in series if i < len(s.values) and s.values[i] is not None]
        values.append(sum(v for v in present if v is not None) if present else None)
    return Series(first.start_ns, first.step_ns, tuple(values))


class ErrorTrends(ThemedChart):
    """Error counts per second by type, with the window's error rate in the title."""

    DEFAULT_CSS = """
    ErrorTrends {
        border: round $error 40%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    """

    snapshot: reactive[PoolSnapshot | None] = reactive(None, always_update=True, repaint=False)
    """The snapshot drawn; set by the screen on every refresh."""

    def watch_snapshot(self, snapshot: PoolSnapshot | None) -> None:
        """Put the totals in the border captions."""
        if snapshot is None:
            self.border_title = "Errors"
            self.border_subtitle = ""
            self.refresh_if_changed()
            return
        self.border_title = "Errors"  # until mounted: _fit_legend sizes the title too
        self._fit_legend()
        self.refresh_if_changed()

    def on_resize(self) -> None:
        """Refit the title and the legend to the new width."""
        self._fit_legend()

    def _fit_legend(self) -> None:
        """The title and the legend (bottom border), each in the longest form that fits.

        Drawn inside the plot, a legend covers the oldest minute of data; in the border it
        costs nothing: each type in its line's colour, with its count. Types that do not fit
        are counted as `+N` (`_error_captions`).
        """
        snapshot = self.snapshot
        if snapshot is None or not self.is_mounted:
            return
        errors = snapshot.errors
        room = caption_room(self)
        self.border_title = error_title(fmt.percent(errors.rate), fmt.count(errors.total), room)
        totals = dict(errors.by_type)
        lines = top_series(errors.series_by_type, totals)
        counts = [
            fmt.count(totals.get(name, 0) if name != "other" else _other_total(lines, totals))
            for name, _ in lines
        ]
        shown, more = fit_legend(
            [(name, n) for (name, _), n in zip(lines, counts, strict=True)], room
        )
        parts = []
        for index in shown:
            colour = theme_hex(self.app, _PALETTE[index % len(_PALETTE)])
            parts.append(f"[{colour}]■[/] {escape(lines[index][0])} {counts[index]}")
        self.border_subtitle = "  ".join([*parts, more] if more else parts)

    def render(self) -> RenderResult:
        """Say so in words when there is nothing to draw."""
        snapshot = self.snapshot
        if snapshot is not None and snapshot.errors.total == 0:
            message = f"no failed tasks in the last {fmt.window(snapshot.window_s)}"
            return Text(message, style="dim", justify="center")
        return super().render()

    def data_key(self) -> object:
        """Redraw when the series or the second changes (slots are one second long)."""
        snap = self.snapshot
        if snap is None:
            return ("empty",)
        return (snap.window_s, snap.errors.series_by_type, snap.taken_at_ns // 1_000_000_000)

    def draw(self, plt: Plot) -> None:
        """One braille line per error type over a relative time axis."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        window_s = snapshot.window_s
        width = max(10, self.size.width - 8)
        ticks, labels = time_ticks(window_s, max(2, width // 8))
        plt.xticks(ticks, labels)
        plt.xlim(-window_s, 0)
        totals = dict(snapshot.errors.by_type)
        lines = top_series(snapshot.errors.series_by_type, totals)
        all_y: list[float | None] = []
        for index, (_, series) in enumerate(lines):
            points = relative_points(series, snapshot.taken_at_ns, width * 2)
            all_y.extend(points.y)
            colour = self.colour(_PALETTE[index % len(_PALETTE)])
            for xs, ys in segments(points):
                plt.plot(xs, ys, color=colour, marker="braille")
        top = nice_max(all_y)
        plt.ylim(0, top)
        plt.yticks([0, top], ["0", f"{fmt.count(top)}/s"])  # failed tasks per second
