"""`CursorInView`: a `DataTable` whose cursor never stays on a row scrolled out of view.

Why: Textual's `DataTable` scrolls its rows under the mouse wheel and the scrollbar but
leaves the cursor where it was, so it can sit on a row nobody can see, and enter then opens
that hidden row (an operation, an alert, a failure, a setting). Mixed in before `DataTable`,
this moves the cursor to the nearest row in view after every vertical scroll, like the
worker and pool tables do (`_line_table.cursor_within`). Rows may be taller than one line.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from poolmon.widgets._line_table import cursor_within


def rows_in_view(table: DataTable[Any], top: int) -> tuple[int, int] | None:
    """The first and last row indices wholly or partly shown with the body scrolled to `top`."""
    header = table.header_height if table.show_header else 0
    bottom = top + max(1, table.scrollable_content_region.height - header)
    shown: list[int] = []
    y = 0
    for index, row in enumerate(table.ordered_rows):
        if y + row.height > top and y < bottom:
            shown.append(index)
        y += row.height
        if y >= bottom:
            break
    return (shown[0], shown[-1]) if shown else None


class CursorInView:
    """Mixin for `DataTable` subclasses (list it before `DataTable`); see the module doc."""

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """After a scroll, put the cursor on the nearest row in view."""
        super().watch_scroll_y(old_value, new_value)  # type: ignore[misc]
        table: DataTable[Any] = self  # type: ignore[assignment]
        if not table.row_count or table.cursor_type == "none" or not table.is_mounted:
            return
        view = rows_in_view(table, round(new_value))
        if view is None:
            return
        first, last = view
        row = cursor_within(table.cursor_row, first, last - first + 1, table.row_count)
        if row != table.cursor_row:
            table.move_cursor(row=row, scroll=False)
