"""Shorten free text to a width at a word boundary, with `…` saying that more follows.

Why: a one-line preview of an exception message cut at the last cell (`order 1097…`) shows
half a number that reads as a whole one. Cut between words, the preview shows only whole
words and figures; the whole message is one enter away.
"""

from __future__ import annotations

from rich.cells import cell_len

ELLIPSIS = "…"


def clip_words(text: str, width: int) -> str:
    """`text` if it fits `width` cells, else its longest run of whole words plus ` …`.

    A first word longer than the width is the one thing cut mid-word (there is no whole word
    to show); the ellipsis still says so.
    """
    if cell_len(text) <= width:
        return text
    room = width - cell_len(" " + ELLIPSIS)
    words = text.split(" ")
    shown = ""
    for word in words:
        candidate = f"{shown} {word}" if shown else word
        if cell_len(candidate) > room:
            break
        shown = candidate
    if shown:
        return f"{shown} {ELLIPSIS}"
    return text[: max(0, width - 1)] + ELLIPSIS if width > 0 else ""
