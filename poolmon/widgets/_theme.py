"""Read colours from the running app's theme, so widgets follow `ctrl+p` theme changes.

Theme variables are CSS values; some (`text-muted` is `auto 60%`) are relative and mean
nothing to Rich or plotext. `theme_colour` resolves any of them to a concrete `Color`.
"""

from __future__ import annotations

from textual.app import App
from textual.color import Color


def theme_colour(app: App[object], name: str) -> Color:
    """The theme variable `name` as a concrete colour (relative values blended on background)."""
    variables = app.theme_variables
    background = Color.parse(variables.get("background") or "#000000")
    foreground = Color.parse(variables.get("foreground") or "#ffffff")
    value = (variables.get(name) or "").strip()
    if value.startswith("auto"):
        percent = value.removeprefix("auto").strip().rstrip("%") or "100"
        return background.blend(foreground, float(percent) / 100)
    try:
        colour = Color.parse(value)
    except Exception:  # an unknown or missing variable: fall back to the text colour
        return foreground
    return background.blend(colour.with_alpha(1.0), colour.a) if colour.a < 1 else colour


def theme_hex(app: App[object], name: str) -> str:
    """`theme_colour` as `#rrggbb`, which Rich styles accept."""
    return theme_colour(app, name).hex6
