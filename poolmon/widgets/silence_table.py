"""The silences in force: what they match, when they end, who set them and why.

Rows are keyed by silence id, so the one selected for removal (`u`) stays selected while the
table refreshes; a silence that has not started yet says when it starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from poolmon.core.alerts.model import Silence
from poolmon.widgets import _format as fmt
from poolmon.widgets._cursor_in_view import CursorInView
from poolmon.widgets._keyed_rows import Row, replace_rows, selected_key
from poolmon.widgets._theme import theme_hex

COLUMNS = ("Id", "Matchers", "Ends in", "By", "Comment")
"""Column headers."""


def ends_in(silence: Silence, now_ns: int) -> str:
    """`44m59s`, `starts in 5m` for a scheduled one, `ended` once over."""
    if silence.starts_at_ns > now_ns:
        return f"starts in {fmt.age(silence.starts_at_ns - now_ns)}"
    if silence.ends_at_ns <= now_ns:
        return "ended"
    return fmt.age(silence.ends_at_ns - now_ns)


class SilenceTable(CursorInView, DataTable[Any]):
    """Silences, one row each, keyed by silence id."""

    DEFAULT_CSS = """
    SilenceTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: list[Row] = []

    def on_mount(self) -> None:
        """Add the columns."""
        self.add_columns(*COLUMNS)

    @property
    def selected_id(self) -> str | None:
        """The id of the silence under the cursor."""
        return selected_key(self)

    def show(self, silences: Sequence[Silence], now_ns: int) -> None:
        """List the silences, soonest to end first."""
        muted = Style(color=theme_hex(self.app, "text-muted"))
        rows: list[Row] = [
            (
                s.id,
                (
                    s.id,
                    " ".join(str(m) for m in s.matchers),
                    Text(ends_in(s, now_ns), justify="right"),
                    s.created_by or "—",
                    Text(s.comment, style=muted),
                ),
            )
            for s in sorted(silences, key=lambda s: s.ends_at_ns)
        ]
        if replace_rows(self, rows, self._shown):
            self._shown = rows
