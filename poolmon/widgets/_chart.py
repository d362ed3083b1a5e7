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

    def render(self) -> RenderResult:
        """Rebuild the figure at the widget's current size and return it."""
        plt = self.plt
        plt.clear_figure()
        if self.size.width < 12 or self.size.height < 4:
            return Text("")
        self.draw(plt)
        return super().render()

    def draw(self, plt: Plot) -> None:
        """Draw the chart; subclasses override this."""

    def colour(self, variable: str) -> tuple[int, int, int]:
        """An RGB tuple for a theme variable (`primary`, `error`...), as plotext wants it."""
        rgb = theme_colour(self.app, variable).rgb
        return (rgb[0], rgb[1], rgb[2])
