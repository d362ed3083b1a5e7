"""Wrap a timestamped line under its own text, not under the timestamp (a hanging indent).

Why: lists of `HH:MM:SS what happened` in narrow panels (a worker's exits and states at 80
columns) were cut with an ellipsis mid-word (`starting → rea…`). Wrapped by Rich alone, the
second line starts under the time, where the eye looks for the next entry's time; indented,
the entries stay readable as a column of times.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text


def hanging_lines(prefix: Text, body: Text, width: int, console: Console) -> list[Text]:
    """`prefix` then `body` wrapped at spaces to `width` cells, continuation lines indented.

    A word longer than the room left is folded, never dropped.
    """
    indent = prefix.cell_len
    room = max(1, width - indent)
    lines: list[Text] = []
    for index, part in enumerate(body.wrap(console, room, overflow="fold")):
        line = Text()  # not prefix.copy(): the prefix's own style would colour the body
        line.append_text(prefix if index == 0 else Text(" " * indent))
        part.rstrip()
        line.append_text(part)
        lines.append(line)
    return lines or [Text().append_text(prefix)]
