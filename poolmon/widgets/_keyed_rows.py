"""Refill a `DataTable` from a snapshot without losing the row the person selected.

Alert and silence tables are rebuilt from each new alert state; clearing and re-adding rows
would put the cursor back on the first row four times a second. Rows carry keys (alert and
silence ids), the cursor follows its key, and a table whose rows did not change is not touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

Row = tuple[str, tuple[Text | str, ...]]
"""A row key and its cells."""


def selected_key(table: DataTable[Any]) -> str | None:
    """The key of the row under the cursor, or None for an empty table."""
    if not table.row_count or not 0 <= table.cursor_row < table.row_count:
        return None
    key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    return None if key is None else str(key)


def replace_rows(
    table: DataTable[Any], rows: Sequence[Row], shown: Sequence[Row], *, height: int = 1
) -> bool:
    """Show `rows` (unless they equal `shown`), keeping the cursor on its row's key.

    `height` is each row's height in lines (a two-line row holds two facts per cell).

    Returns:
        Whether the table was refilled.
    """
    if list(rows) == list(shown):
        return False
    keep = selected_key(table)
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key, height=height)
    keys = [key for key, _ in rows]
    if keep in keys:
        table.move_cursor(row=keys.index(keep), animate=False)
    return True
