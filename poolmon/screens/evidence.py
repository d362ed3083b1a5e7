"""The evidence behind one finding: its numbers, how sure, what it would change, and a chart.

Opened with enter on a finding. The finding is refreshed from each frame while it still holds;
when the advisor stops reporting it (the condition cleared), the last evidence stays on screen
and the title says so, rather than the view going blank under the reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Static

from poolmon.core.advisor.model import Finding
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets import _format as fmt
from poolmon.widgets._hanging import hanging_lines
from poolmon.widgets._theme import theme_hex
from poolmon.widgets.findings_list import SEVERITY_LOOK
from poolmon.widgets.series_chart import SeriesChart


class EvidenceScreen(PoolmonScreen):
    """One finding in full (see module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("x", "apply", "Apply"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `x` | Apply this finding's action (confirmed; refused read-only). |
    | `escape` | Back to the findings. |
    """

    DEFAULT_CSS = """
    EvidenceScreen #evidence {
        height: auto;
        max-height: 60%;
        border: round $primary 50%;
        border-title-color: $text;
        padding: 0 1;
    }
    EvidenceScreen SeriesChart { height: 1fr; min-height: 6; }
    """

    def __init__(self, finding: Finding) -> None:
        super().__init__()
        self.finding = finding
        """The finding shown (refreshed from frames while it holds)."""
        self.cleared = False
        """Whether the advisor stopped reporting it."""

    def compose_body(self) -> Iterable[Widget]:
        """The evidence text, then the chart."""
        yield Static(id="evidence")
        title = self.finding.chart_title
        unit = fmt.size_bytes if "(bytes)" in title else fmt.count
        # a level (queue depth, memory) spans its own range; a rate starts at zero
        gauge = "(bytes)" in title or title.startswith("queue")
        yield SeriesChart(title or "no chart for this finding", unit, gauge=gauge)

    def show_body(self, frame: Frame) -> None:
        """Refresh the finding from the frame and draw it."""
        fresh = next((f for f in frame.findings if f.key == self.finding.key), None)
        if fresh is not None:
            self.finding, self.cleared = fresh, False
        elif frame.findings or frame.advice_note:
            self.cleared = True
        f = self.finding
        box = self.query_one("#evidence", Static)
        box.border_title = f.title + ("  (no longer reported)" if self.cleared else "")
        box.update(self._text(f))
        chart = self.query_one(SeriesChart)
        chart.now_ns = f.chart.start_ns + f.chart.step_ns * len(f.chart.values)
        chart.window_s = max(60, f.chart.step_ns * len(f.chart.values) // 1_000_000_000)
        chart.series = f.chart

    def _text(self, f: Finding) -> Text:
        """The finding's facts; bullets, impact and action wrap under their own text."""
        muted = Style(color=theme_hex(self.app, "text-muted"))
        label, colour = SEVERITY_LOOK[f.severity]
        head = Text()
        head.append(f"{label} ", style=Style(bold=True, color=theme_hex(self.app, colour)))
        head.append(f"{f.confidence_label} confidence ({f.confidence:.2f})", style=Style(bold=True))
        head.append(f" · rule {f.kind}", style=muted)
        width = self.query_one("#evidence", Static).content_size.width or 10_000
        console = self.app.console
        lines = [head]
        for e in f.evidence:
            lines += hanging_lines(Text("  • ", style=muted), Text(e.text()), width, console)
        lines += hanging_lines(Text("Impact  ", style="bold"), Text(f.impact), width, console)
        action = Text(f.action.text if f.action.applicable else f"hint: {f.action.text}")
        if f.action.applicable:
            action.append("  (x applies it)", style=muted)
        lines += hanging_lines(Text("Action  ", style="bold"), action, width, console)
        return Text("\n").join(lines)

    def action_apply(self) -> None:
        """Apply this finding's action (the app confirms and sends it)."""
        self.app.apply_finding(self.finding)  # type: ignore[attr-defined]
