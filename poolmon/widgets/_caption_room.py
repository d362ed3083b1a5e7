"""How many cells a border caption (title or subtitle) can use before Textual cuts it.

Why: Textual truncates a border caption that is too long with an ellipsis, which cut figures
mid-number at 80 columns (`Errors 1.2% (…`). Widgets that choose a caption's form by width
ask here how much room there is. Measured on Textual 8: the caption gets the outer width
less both corners, the blank beside each, and the border's own edge cells (6 in all).
"""

from __future__ import annotations

from textual.widget import Widget

CAPTION_MARGIN = 6
"""Cells of a bordered widget's outer width that its caption cannot use."""


def caption_room(widget: Widget) -> int:
    """The cells a caption of `widget` may take and still be drawn whole (0 if unsized)."""
    return max(0, widget.outer_size.width - CAPTION_MARGIN)
