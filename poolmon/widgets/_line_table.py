"""Drawing a table row with Textual's line API: cells to one cached `Strip`.

Tables refreshed four times a second (the pools overview) cannot afford a `DataTable`'s
per-cell Rich rendering; they draw each row as a few segments instead. This is that drawing:
each cell padded or cut (with `…`) to its column, in its theme colour, on the row's style.
`poolmon.widgets.worker_table` and `poolmon.widgets.pool_table` both draw with it, and keep
their rows' strips in a `RowStrips`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

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


class RowStrips:
    """A table's drawn rows: the strips drawn since its data last changed, and the ones before.

    Why two generations and not a dict keyed by a row's text: live rows (tasks done, CPU,
    RSS) change text every refresh, so such a dict gains a strip per changed row four times a
    second and only forgets them at a size cap (4,096 strips of 160 columns, each with
    Textual's seven caches of derived strips: ~12 MiB of live objects at its peak, which
    pymalloc kept as the app's RSS; issue 17). Here `new_data` starts a generation: a strip
    drawn in the last one moves over when it is drawn again (an unchanged row costs nothing
    to redraw), and whatever was not drawn again is dropped. So it holds at most the strips
    of two data versions of the rows drawn, however long the table runs.
    """

    def __init__(self) -> None:
        self._now: dict[Hashable, Strip] = {}
        self._last: dict[Hashable, Strip] = {}

    def __len__(self) -> int:
        """Strips held (both generations)."""
        return len(self._now) + len(self._last)

    def get(self, key: Hashable, build: Callable[[], Strip]) -> Strip:
        """The strip for `key`, reused from this or the last generation, else `build()`."""
        strip = self._now.get(key)
        if strip is None:
            strip = self._last.pop(key, None)
            if strip is None:
                strip = build()
            self._now[key] = strip
        return strip

    def new_data(self) -> None:
        """The rows changed: what is not drawn again before the next change is dropped."""
        self._last = self._now
        self._now = {}

    def clear(self) -> None:
        """Forget every strip (the columns changed width: none can be reused)."""
        self._now.clear()
        self._last.clear()
