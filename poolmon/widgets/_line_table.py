"""Drawing a table row with Textual's line API: cells to one cached `Strip`.

Tables refreshed four times a second (the pools overview) cannot afford a `DataTable`'s
per-cell Rich rendering; they draw each row as a few segments instead. This is that drawing:
each cell padded or cut (with `…`) to its column, in its theme colour, on the row's style.
`poolmon.widgets.worker_table` and `poolmon.widgets.pool_table` both draw with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.app import App
from textual.strip import Strip

from poolmon.widgets._theme import theme_hex

Cell = tuple[str, str, bool]
"""Text, theme colour name (or ""), right-aligned."""


def cells_strip(
    app: App[object],
    cells: Sequence[Cell],
    widths: Sequence[int],
    style: Style,
    width: int,
    gap_marks: str = "",
) -> Strip:
    """One row: each cell fitted to its column (which includes a one-cell gap).

    A right-aligned cell ending with one of `gap_marks` (a sorted header's arrow) writes that
    mark in the gap, so the column's text stays aligned with the values under it.
    """
    segments = []
    for (text, colour, right), column_width in zip(cells, widths, strict=True):
        room = column_width - 1
        gap = " "
        if right and gap_marks and text.endswith(tuple(gap_marks)):
            text, gap = text[:-1], text[-1]
        if len(text) > room:
            text = text[: max(0, room - 1)] + "…"
        text = text.rjust(room) if right else text.ljust(room)
        cell_style = style + Style(color=theme_hex(app, colour)) if colour else style
        segments.append(Segment(text + gap, cell_style))
    return Strip(segments).crop_extend(0, width, style)


def cursor_within(cursor: int, top: int, visible: int, count: int) -> int:
    """The cursor row after a scroll showed rows `top` .. `top + visible - 1` of `count`.

    Why: a wheel or scrollbar scroll moves the rows, not the cursor; left alone, the cursor
    sits on a row nobody can see and enter opens it. It moves to the nearest row shown.
    """
    if count <= 0:
        return 0
    last = min(count, top + max(1, visible)) - 1
    return min(max(cursor, top), max(top, last))
