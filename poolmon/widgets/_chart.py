"""The base of poolmon's plotext charts: one `Plot` per widget, colours from the app theme.

Each chart subclass implements `draw(plt)`, called on every render with the plot already
cleared and sized, so a chart is always rebuilt from the current snapshot (never appended to,
which is how plotext figures grow without bound) and never touches plotext's global figure.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from poolmon.widgets._theme import theme_colour


class ThemedChart(PlotextPlot):
    """A `PlotextPlot` that redraws from scratch each render and draws in theme colours."""

    DEFAULT_CSS = """
    ThemedChart {
        height: 1fr;
        min-height: 5;
    }
    """

    _cache_key: object = None
    _cache: RenderResult | None = None

    def render(self) -> RenderResult:
        """Rebuild the figure at the widget's size, unless nothing it shows has changed.

        Slots are a second long and the app refreshes four times a second, so most frames
        would rebuild an identical figure; `data_key()` lets a chart say when they would.
        """
        key = (self.size, self.app.theme, self.data_key())
        if key == self._cache_key and self._cache is not None and key[2] is not None:
            return self._cache
        plt = self.plt
        plt.clear_figure()
        if self.size.width < 12 or self.size.height < 4:
            return Text("")
        plt.xaxes(True, False)  # an L-shaped axis: a closed box costs a row and a column
        plt.yaxes(True, False)
        self.draw(plt)
        result = super().render()
        self._cache_key, self._cache = key, result
        return result

    def data_key(self) -> object:
        """A value that changes whenever the drawing would; None disables the cache."""
        return None

    def refresh_if_changed(self) -> None:
        """Repaint only when `data_key()` changed since the last paint.

        Data reactives are declared with `repaint=False` and call this instead, so a refresh
        that brings no new second of data costs nothing here, not even a re-composite.
        """
        key = (self.size, self.app.theme, self.data_key())
        if key != self._cache_key or key[2] is None:
            self.refresh()

    def draw(self, plt: Plot) -> None:
        """Draw the chart; subclasses override this."""

    def draw_gaps(
        self, plt: Plot, spans: list[tuple[float, float]], bottom: float, top: float
    ) -> None:
        """Shade each gap from the bottom to the top of the plot, labelled where it fits.

        A gap is a stretch of time the monitor knows nothing about; a light hatch in the
        warning colour reads as "missing" at a glance (a thin vertical line read as a spike),
        and `gap` / `no data` says it in words when the stretch is wide enough.
        """
        if not spans:
            return
        hatch = theme_colour(self.app, "warning").blend(theme_colour(self.app, "background"), 0.55)
        shade = (hatch.rgb[0], hatch.rgb[1], hatch.rgb[2])
        label_colour = self.colour("warning")
        cells_per_unit = self._plot_cells_per_x()
        for start, end in spans:
            plt.plot([start, end], [top, top], marker="░", color=shade, fillx=True)
            cells = (end - start) * cells_per_unit
            label = "no data" if cells >= 11 else "gap" if cells >= 5 else ""
            if label:
                plt.text(
                    label,
                    x=(start + end) / 2,
                    y=bottom + (top - bottom) / 2,
                    color=label_colour,
                    alignment="center",
                )

    def _plot_cells_per_x(self) -> float:
        """Cells per x unit, from the x range the chart set (`x_range`) and its width."""
        lo, hi = self.x_range
        return max(1.0, self.size.width - 8) / max(1e-9, hi - lo)

    x_range: tuple[float, float] = (-60.0, 0.0)
    """The x range the last `draw` set (for sizing gap labels)."""

    def colour(self, variable: str) -> tuple[int, int, int]:
        """An RGB tuple for a theme variable (`primary`, `error`...), as plotext wants it."""
        rgb = theme_colour(self.app, variable).rgb
        return (rgb[0], rgb[1], rgb[2])
