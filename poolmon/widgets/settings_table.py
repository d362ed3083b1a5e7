"""The tuning screen's table: every run-time setting, its value now, what it accepts, what it does.

The rows come from the pool's `settings` reply (`SettingSpec`s), so the ranges shown are the
pool's own. A value of None is shown as what it means there ("no timeout", "unbounded"),
and a setting that needs a restart says so in its value column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.widgets import DataTable

from poolmon.core.tuning import SettingSpec, format_value
from poolmon.widgets._cursor_in_view import CursorInView

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("key", "Setting", 25),
    ("value", "Value", 18),
    ("range", "Accepts", 28),
    ("help", "What it does", 80),
)
"""Column key, header and width, in display order (the unit follows the value and range)."""


def shown_value(spec: SettingSpec) -> str:
    """The value as the table shows it: with its unit, or what None means for this setting."""
    if spec.value is None:
        return spec.none_means or "none"
    unit = spec.unit if spec.unit != "share" else ""
    if spec.value == 1 and unit in ("workers", "tasks"):
        unit = unit[:-1]  # "1 worker", not "1 workers"
    text = format_value(spec.value) + (f" {unit}" if unit else "")
    return text if spec.live else f"{text} (restart)"


class SettingsTable(CursorInView, DataTable[Text | str]):
    """One row per `SettingSpec`; the row key is the setting's key."""

    OPENS_FIELD: ClassVar[dict[str, str]] = {"select_cursor": "edit"}
    """Enter on a row does its screen's `edit` (the edit line, when editing is allowed), so
    keys typed after it wait for that field (`TypeaheadMixin`)."""

    DEFAULT_CSS = """
    SettingsTable {
        border: round $primary 50%;
        border-title-color: $text;
        height: auto;
        overflow-x: hidden;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        """Create the columns."""
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)
        self.border_title = "Settings"

    def show_settings(self, specs: Sequence[SettingSpec]) -> None:
        """Replace the rows, keeping the cursor on the same setting when it is still there."""
        keys = [spec.key for spec in specs]
        if keys == [str(row.value) for row in self.rows] and self.row_count:
            for spec in specs:  # same rows: update the cells in place (no cursor jump)
                self.update_cell(spec.key, "value", self._value_cell(spec))
                self.update_cell(spec.key, "range", self._range_cell(spec))
            return
        current = self.current_key
        self.clear()
        for spec in specs:
            self.add_row(
                Text(spec.key, no_wrap=True, overflow="ellipsis"),
                self._value_cell(spec),
                self._range_cell(spec),
                Text(spec.help, no_wrap=True, overflow="ellipsis"),
                key=spec.key,
            )
        if current in keys:
            self.move_cursor(row=keys.index(current))

    @property
    def current_key(self) -> str | None:
        """The highlighted setting's key (None when the table is empty)."""
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:
            return None
        return None if row_key.value is None else str(row_key.value)

    @staticmethod
    def _value_cell(spec: SettingSpec) -> Text:
        return Text(shown_value(spec), no_wrap=True, overflow="ellipsis")

    @staticmethod
    def _range_cell(spec: SettingSpec) -> Text:
        return Text(spec.range_text(unit=True), no_wrap=True, overflow="ellipsis")
