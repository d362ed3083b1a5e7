"""The advisor's findings, most urgent first: severity, what is wrong, confidence, the action.

An `OptionList` rather than a table: a finding's title is a sentence, and at 80 columns a
table cut it (and the action) off; here each finding wraps onto as many lines as it needs,
its second line saying how sure the advisor is and what the action would do. The highlight
stays on the same finding (by key) while the list is recomputed each second; enter posts
`FindingChosen` (the evidence view).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from poolmon.core.advisor.model import Finding
from poolmon.widgets._hanging import hanging_lines
from poolmon.widgets._theme import theme_hex

SEVERITY_LOOK: dict[str, tuple[str, str]] = {
    "critical": ("CRIT", "error"),
    "warning": ("WARN", "warning"),
    "info": ("info", "text-muted"),
}
"""Label and theme colour per severity."""


class FindingsList(OptionList):
    """The findings as two-line options (see module doc)."""

    DEFAULT_CSS = """
    FindingsList {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: 1fr;
        min-height: 5;
        padding: 0 1;
    }
    """

    class FindingChosen(Message):
        """Enter on a finding: show its evidence."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key
            """The chosen finding's key."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.findings: tuple[Finding, ...] = ()
        """The findings shown, in order."""
        self._empty = ""
        self._width = 0

    def on_mount(self) -> None:
        """Title the border."""
        self.border_title = "Findings · most urgent first"

    def show_findings(self, findings: Sequence[Finding], empty: str) -> None:
        """Replace the options, keeping the highlight on the same finding when still there.

        Args:
            findings: In priority order.
            empty: What to say when there is none (why: no data yet, or all is well).
        """
        findings = tuple(findings)
        width = self.scrollable_content_region.width
        same = findings == self.findings and empty == self._empty and width == self._width
        if same and self.option_count:
            return
        self._width = width
        current = self.current
        self.findings, self._empty = findings, empty
        self.clear_options()
        if not findings:
            self.add_option(Option(Text(empty, style=self._colour("text-muted")), disabled=True))
            self.border_subtitle = ""
            return
        self.add_options([Option(self._prompt(f), id=f.key) for f in findings])
        keys = [f.key for f in findings]
        self.highlighted = keys.index(current.key) if current and current.key in keys else 0
        crit = sum(f.severity == "critical" for f in findings)
        warn = sum(f.severity == "warning" for f in findings)
        self.border_subtitle = f"{crit} critical · {warn} warning · {len(findings)} in all"

    def _colour(self, name: str) -> Style:
        return Style(color=theme_hex(self.app, name))

    def on_resize(self) -> None:
        """Wrap the findings again for the new width."""
        self.show_findings(self.findings, self._empty)

    def _prompt(self, f: Finding) -> Text:
        """Severity, title, then how sure and the action, wrapped under the title's text."""
        label, colour = SEVERITY_LOOK[f.severity]
        head = Text(f"{label:<5}", style=Style(bold=True, color=theme_hex(self.app, colour)))
        title = Text(f.title, style=Style(bold=f.severity != "info"))
        detail = Text(f"{f.confidence_label} confidence · ", style=self._colour("text-muted"))
        if f.action.applicable:
            detail.append("x: ", style=self._colour("accent"))
            detail.append(f.action.text)
        else:
            detail.append(f"hint: {f.action.text}", style=self._colour("text-muted"))
        width = self._width if self._width > 8 else 10_000  # unsized: one line each
        lines = hanging_lines(head, title, width, self.app.console)
        lines += hanging_lines(Text(" " * 5), detail, width, self.app.console)
        return Text("\n").join(lines)

    @property
    def current(self) -> Finding | None:
        """The highlighted finding."""
        i = self.highlighted
        if i is None or not self.findings or not 0 <= i < len(self.findings):
            return None
        return self.findings[i]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter: ask for the evidence view."""
        event.stop()
        if event.option.id is not None:
            self.post_message(self.FindingChosen(event.option.id))
