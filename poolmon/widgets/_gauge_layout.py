"""How the Resources panel's gauges share a line: label, bar, value, chosen by width.

Why: the panel is 40-odd cells wide at 160 columns but about 21 at 80 columns beside the
alerts, where fixed columns cut the utilization verdict to `avg 44% l`. A figure cut mid-word
misleads, so the layout shrinks everything else first, widest form first, and takes the first
form in which every value fits whole with a bar of at least `MIN_WIDE_BAR` cells (the first
form) or `MIN_BAR` (the next two):

1. long labels, wide values (`3.6 cores of 8`, `24 open`, `44% · avg 52% low`);
2. long labels, narrow values (`3.6 cores`, `24`, `avg 52% low`: the bar is the latest
   reading, so the text keeps the average and its verdict);
3. short labels (`Mem`), narrow values;
4. short labels, narrow values and whatever bar is left (none at all, at worst).

The host's figures (cpu, load, swap) are one line below the gauges when the panel has the
rows, else its bottom border carries them in the longest form that fits whole.
Pure: strings in, widths out, unit-tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len

MIN_BAR = 3
"""The narrowest bar still worth drawing in forms 2 and 3."""

MIN_WIDE_BAR = 8
"""Unit words are worth less than a readable bar: the wide form needs this much bar."""


@dataclass(frozen=True)
class GaugeRow:
    """One gauge's words in each form."""

    label: str
    """`Memory`."""
    short_label: str
    """`Mem` (the same as `label` when that is short already)."""
    wide: str
    """The value with its unit words (`24 open`)."""
    narrow: str
    """The value alone (`24`)."""


@dataclass(frozen=True)
class GaugeLayout:
    """The chosen form: each row's label and value, and the column widths."""

    labels: tuple[str, ...]
    values: tuple[str, ...]
    label_width: int
    """Cells for the label column, its trailing space included."""
    bar_width: int
    """Cells for the bar (0: no bar; the value follows the label)."""


def gauge_layout(rows: list[GaugeRow], width: int) -> GaugeLayout:
    """The first form (module doc) in which every row fits `width` cells whole."""
    forms = ((False, True, MIN_WIDE_BAR), (False, False, MIN_BAR), (True, False, MIN_BAR))
    for short, wide, min_bar in forms:
        layout = _form(rows, width, short=short, wide=wide)
        if layout.bar_width >= min_bar:
            return layout
    last = _form(rows, width, short=True, wide=False)
    return GaugeLayout(last.labels, last.values, last.label_width, max(0, last.bar_width))


def _form(rows: list[GaugeRow], width: int, *, short: bool, wide: bool) -> GaugeLayout:
    labels = tuple(row.short_label if short else row.label for row in rows)
    values = tuple(row.wide if wide else row.narrow for row in rows)
    label_width = max((cell_len(label) for label in labels), default=0) + 1
    value_width = max((cell_len(value) for value in values), default=0)
    bar_width = width - label_width - value_width - 1  # one space between bar and value
    return GaugeLayout(labels, values, label_width, bar_width)


def host_caption(cpu: str, load: str, swap: str, width: int, prefix: str = "host ") -> str:
    """The host's figures in the longest form within `width` cells, or "" if none fits.

    `host cpu 46% · load 1.72 · swap 0%`, then without the dots, then `host 46% ...`; the
    panel's body passes its label column as `prefix` (`Host   cpu 46% ...`).
    """
    forms = (
        f"{prefix}cpu {cpu} · load {load} · swap {swap}",
        f"{prefix}cpu {cpu} load {load} swap {swap}",
        f"{prefix}{cpu} load {load} swap {swap}",
    )
    return next((form for form in forms if cell_len(form) <= width), "")
