"""Which keys the footer shows when they do not all fit on one line.

Why: Textual's footer lays the keys out left to right and lets the line run off the edge, so
at 80 columns the last keys (`? Help`, `q Quit`, the two a stranger needs most) were the ones
cut. Here the footer drops keys by importance instead, least important first, keeps the order
of the ones it shows, and puts `? Help` and `q Quit` last, at the right, on every screen
(a replay's own keys would otherwise follow them). The order (docs/APP.md, "Screens"):

1. `q` Quit and `?` Help always stay;
2. then the keys of the screen in front (Back, Recycle, Sort, ...), and in a replay the
   replay's keys; among these the rightmost goes first;
3. then the app-wide keys, dropped from the right: Advise, Tune, Alerts, Ops, Pause;
4. the `^p palette` hint goes before any key (ctrl+p still works and help lists it).

Pure: the widget (`KeyFooter`) measures nothing but strings, so this is unit-tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len

ALWAYS_SHOWN = ("quit", "help")
"""Actions the footer keeps at any width (while they fit at all), Quit the longest."""

APP_WIDE = ("pause", "operations", "alerts", "tuning", "advisor")
"""The app-wide keys, most important first: the footer drops them from the end."""

PALETTE_WIDTH_EXTRA = 2
"""The palette hint's border and right padding, beyond an ordinary key."""


@dataclass(frozen=True)
class FooterItem:
    """One key as the footer would draw it."""

    key_display: str
    """The key as shown (`q`, `esc`, `␣`)."""
    description: str
    """The label beside it (`Quit`)."""
    action: str
    """The binding's action (its name decides its importance)."""


def item_width(item: FooterItem, *, compact: bool) -> int:
    """Cells one key takes, with the space after it, in Textual's footer style.

    Compact: `q Quit` and a margin of one. Spaced: ` q Quit ` (the key padded both sides,
    the label padded right) and no margin.
    """
    key, label = cell_len(item.key_display), cell_len(item.description)
    if compact:
        return key + (1 + label if label else 0) + 1
    return key + 2 + (label + 1 if label else 0)


def trailing_margin(*, compact: bool) -> int:
    """The last key's margin, which may fall off the right edge without hiding anything."""
    return 1 if compact else 0


def importance(item: FooterItem, position: int) -> tuple[int, int]:
    """A sort key: the greater, the sooner the item is dropped (see the module doc)."""
    action = item.action.removeprefix("app.")
    if _always(item):
        return (0, ALWAYS_SHOWN.index(action))
    if action in APP_WIDE:
        return (2, APP_WIDE.index(action))
    return (1, position)


def fit_keys(items: list[FooterItem], width: int, *, compact: bool) -> list[int]:
    """The indices of `items` to show within `width` cells, in order, Help and Quit last.

    Drops the least important item (`importance`) until the rest fit. `Quit` and `Help`
    go last of all, and only if even they alone do not fit.
    """
    kept = list(range(len(items)))
    widths = [item_width(item, compact=compact) for item in items]
    width += trailing_margin(compact=compact)
    by_drop_order = sorted(kept, key=lambda i: importance(items[i], i), reverse=True)
    total = sum(widths)
    for index in by_drop_order:
        if total <= width:
            break
        kept.remove(index)
        total -= widths[index]
    last = [i for i in kept if _always(items[i])]
    return [i for i in kept if i not in last] + last


def _always(item: FooterItem) -> bool:
    return item.action.removeprefix("app.") in ALWAYS_SHOWN


def palette_fits(
    items: list[FooterItem], kept: list[int], palette: FooterItem, width: int, *, compact: bool
) -> bool:
    """Whether the palette hint fits beside every kept key (it never costs a key)."""
    used = sum(item_width(items[i], compact=compact) for i in kept)
    needed = used + item_width(palette, compact=compact) + PALETTE_WIDTH_EXTRA
    return needed <= width + trailing_margin(compact=compact)
