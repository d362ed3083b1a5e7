"""The Errors panel's border captions in the longest form that fits whole.

Why: at 80 columns beside the alerts the panel is about 20 cells wide, and Textual cuts a
border caption that is too long with an ellipsis: the title read `Errors 1.2% (…` (the count
lost mid-figure) and the legend `■ TimeoutErro…`. Here each caption is chosen by the room it
has (the panel's width less its two corners and the spaces beside them), and a figure is
either shown whole or left out and counted, never cut. Pure: strings in, strings out.
"""

from __future__ import annotations

from rich.cells import cell_len


def error_title(rate: str, total: str, room: int) -> str:
    """`Errors 1.2% (286)`, or `Err 1.2% (286)`, or `Errors 1.2%` when the room is short.

    The rate is what the panel is about; the count goes last (the legend counts by type).
    """
    forms = (f"Errors {rate} ({total})", f"Err {rate} ({total})", f"Errors {rate}", f"Err {rate}")
    return next((form for form in forms if cell_len(form) <= room), "Errors")


def fit_legend(entries: list[tuple[str, str]], room: int) -> tuple[list[int], str]:
    """Which `(name, count)` entries fit `room` cells as `■ name count`, and the `+N` after.

    Entries are joined by two spaces; those that do not fit are counted as `+N` (or, when
    not even the first fits, as `N types`), so no name or count is ever cut.
    """
    shown: list[int] = []
    used = 0
    for index, (name, count) in enumerate(entries):
        cells = cell_len(f"■ {name} {count}") + (2 if shown else 0)
        left_after = len(entries) - index - 1
        more = cell_len(f"  +{left_after}") if left_after else 0
        if used + cells + more > room:
            break
        shown.append(index)
        used += cells
    rest = len(entries) - len(shown)
    if not rest:
        return shown, ""
    if shown:
        return shown, f"+{rest}"
    types = f"{rest} type{'s' if rest != 1 else ''}"
    return shown, types if cell_len(types) <= room else ""
