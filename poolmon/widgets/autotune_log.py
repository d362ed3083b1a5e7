"""The auto-tuner's change log: every decision, newest first, rollbacks in the error colour.

An operator who sees the pool's size move needs to know who moved it and whether it stuck:
each line is the decision's time, what it was (proposed, applied, kept, rolled back, skipped,
paused) and why, with the before/after figures the validation compared. The border says
whether auto-tuning is on, and until when a manual change paused it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from poolmon.core.advisor.autotune import Decision
from poolmon.core.snapshot import AutotuneView
from poolmon.widgets import _format as fmt
from poolmon.widgets._hanging import hanging_lines
from poolmon.widgets._theme import theme_hex

KIND_COLOUR: dict[str, str] = {
    "kept": "success",
    "rolled_back": "error",
    "failed": "error",
    "applied": "accent",
    "proposed": "accent",
    "abandoned": "warning",
    "paused": "warning",
}
"""Theme colour of each decision kind (others muted)."""


def decisions_of(wires: Sequence[Mapping[str, Any]]) -> list[Decision]:
    """Decisions from their wire form, skipping malformed ones (a newer pool's extra kinds)."""
    out = []
    for w in wires:
        try:
            out.append(Decision.from_wire(dict(w)))
        except (KeyError, TypeError, ValueError):
            continue
    return out


class AutotuneLog(Widget):
    """Auto-tuning state and its decisions (see module doc)."""

    DEFAULT_CSS = """
    AutotuneLog {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        height: auto;
        max-height: 40%;
        min-height: 3;
        padding: 0 1;
    }
    """

    view: reactive[AutotuneView] = reactive(AutotuneView, always_update=True)
    """The pool's auto-tuning state, from the snapshot."""

    now_ns: reactive[int] = reactive(0)
    """The snapshot's time (is a pause still on?)."""

    def render(self) -> RenderResult:
        """The decisions, newest first; a line saying so when there are none."""
        view = self.view
        if view.enabled is None:
            state = "Auto-tuning: — (no decision seen from this pool)"
        elif not view.enabled:
            state = "Auto-tuning: off"
        elif view.paused_until_ns > self.now_ns:
            state = f"Auto-tuning: on · paused until {fmt.clock(view.paused_until_ns)} UTC"
        else:
            state = "Auto-tuning: on"
        self.border_title = state
        self.border_subtitle = "g: turn on/off"
        muted = Style(color=theme_hex(self.app, "text-muted"))
        out = Text(no_wrap=False)
        decisions = decisions_of(view.decisions)
        if not decisions:
            out.append("No size change decided yet.", style=muted)
            return out
        width = self.content_size.width or 10_000
        lines: list[Text] = []
        for d in reversed(decisions):  # each wraps under its own text, not under the time
            body = Text()
            colour = KIND_COLOUR.get(d.kind)
            kind_style = Style(bold=True, color=theme_hex(self.app, colour)) if colour else muted
            body.append(d.kind.replace("_", " "), style=kind_style)
            if d.from_size is not None and d.to_size is not None:
                body.append(f" {d.from_size} → {d.to_size}", style=Style(bold=True))
            body.append(f" · {d.reason}")
            time = Text(f"{fmt.clock(d.at_ns)} ", style=muted)
            lines.extend(hanging_lines(time, body, width, self.app.console))
        return Text("\n").join(lines)
