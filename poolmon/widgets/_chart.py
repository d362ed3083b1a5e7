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

    def colour(self, variable: str) -> tuple[int, int, int]:
        """An RGB tuple for a theme variable (`primary`, `error`...), as plotext wants it."""
        rgb = theme_colour(self.app, variable).rgb
        return (rgb[0], rgb[1], rgb[2])
