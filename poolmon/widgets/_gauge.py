"""A horizontal gauge in eighth blocks, optionally with a highlighted band: pure code.

Used for resource gauges: the fill colour comes from thresholds chosen by the caller, and a
band (the 60-80 % healthy utilization range) is drawn as a tinted background so the reader
sees at a glance whether the fill ends inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

_PARTIAL = " ▏▎▍▌▋▊▉"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Fill colour by value: below `warn` ok, from `warn` warning, from `crit` critical."""

    warn: float
    crit: float

    def level(self, value: float) -> str:
        """`ok`, `warning` or `critical` for `value` (same unit as the thresholds)."""
        if value >= self.crit:
            return "critical"
        if value >= self.warn:
            return "warning"
        return "ok"


def gauge_bar(
    fraction: float | None,
    width: int,
    fill: Style,
    *,
    empty: Style | None = None,
    band: tuple[float, float] | None = None,
    band_style: Style | None = None,
) -> Text:
    """Draw `fraction` (0..1, clamped; None = no data) as a bar `width` cells wide."""
    width = max(0, width)
    if fraction is None:
        return Text("·" * width, style=empty or Style(dim=True))
    eighths = round(min(max(fraction, 0.0), 1.0) * width * 8)
    bar = Text()
    for cell in range(width):
        filled = eighths - cell * 8
        in_band = band is not None and band[0] * width <= cell < band[1] * width
        background = band_style if in_band and band_style is not None else None
        if filled >= 8:
            style = fill + background if background else fill
            bar.append("█", style=style)
        elif filled > 0:
            style = fill + background if background else fill
            bar.append(_PARTIAL[filled], style=style)
        else:
            style = background or empty or Style(dim=True)
            bar.append(" " if background else "·", style=style)
    return bar
