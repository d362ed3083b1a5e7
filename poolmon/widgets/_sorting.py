"""A table's sort order: which column, which way, and how its header shows it (▲ / ▼).

Why shared: the worker table and the operations table sort the same way (`s` cycles the
column, `S` reverses it) and must say so the same way, in the sorted column's header, so a
person sees at a glance what the order is without reading a subtitle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

UP = "▲"
"""Ascending: smallest (or first by name) at the top."""
DOWN = "▼"
"""Descending: largest at the top."""


@dataclass(frozen=True, slots=True)
class SortOrder:
    """The column sorted on and the direction.

    Attributes:
        columns: The sortable column keys, in the order `s` cycles through them.
        natural_desc: The columns whose natural order is descending (biggest first).
        column: The current column.
        reversed: Whether the natural direction is reversed (`S`).
    """

    columns: tuple[str, ...]
    natural_desc: frozenset[str]
    column: str
    reversed: bool = False

    @property
    def descending(self) -> bool:
        """Whether the rows go from largest to smallest."""
        return (self.column in self.natural_desc) != self.reversed

    @property
    def arrow(self) -> str:
        """`▼` when descending, `▲` when ascending."""
        return DOWN if self.descending else UP

    def cycled(self) -> SortOrder:
        """The next column, in its natural direction."""
        i = self.columns.index(self.column)
        return replace(self, column=self.columns[(i + 1) % len(self.columns)], reversed=False)

    def flipped(self) -> SortOrder:
        """The same column the other way."""
        return replace(self, reversed=not self.reversed)

    def header(self, key: str, label: str) -> str:
        """A column's header: its label, with the arrow when it is the sorted column."""
        return f"{label}{self.arrow}" if key == self.column else label
