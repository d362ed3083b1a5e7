"""The replay's "go to" prompt: a typed time, checked as it is typed, and the replay keys' help.

Why a prompt: "what happened at 02:47?" is answered by typing 02:47, not by holding a key.
The line accepts a time of day (`02:47`, `02:47:13`, UTC), a step from where the replay is
(`+5m`, `-30s`) or an offset from the start (`12m`), and `start` / `end`; a bad line says
what is accepted and enter does nothing until it is fixed. The dialog only parses: the app
seeks (`poolmon.core.recording.timeline.parse_seek` is the one parser).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from poolmon.screens.help import HelpScreen
from poolmon.widgets.in_order_input import InOrderInput

REPLAY_KEYS: tuple[tuple[str, str], ...] = (
    ("space  p", "play / pause the replay"),
    ("> <", "faster / slower: 1x, 10x, 60x, 600x"),
    ("g", "go to a time: 02:47 (UTC), +5m, -30s, 12m from the start, start, end"),
    (". ,", "step forward / back by the window"),
    ("n", "jump to the next alert that starts firing"),
    ("c", "jump to the next worker crash"),
    ("d", "jump to the next gap (link down, lost records, recorder drops, silence)"),
    ("", "control keys (+ - t-edits r K k S u x) are refused: a recording cannot be steered"),
)
"""The replay's own keys, for its help."""


class SeekDialog(ModalScreen[int | None]):
    """Ask for a time; dismiss with the recording time it means, or None (escape).

    Args:
        parse: Turns the typed text into a recording time (ValueError with a reason if bad).
        where: The position and length shown above the line (`12m03s of 1h00m00s`).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    """
    | Key | Action |
    | :- | :- |
    | `enter` | Go to the typed time. |
    | `escape` | Cancel. |
    """

    DEFAULT_CSS = """
    SeekDialog { align: center middle; }
    SeekDialog > Vertical {
        width: 64;
        max-width: 100%;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    SeekDialog #why { color: $text-muted; }
    SeekDialog #why.-bad { color: $error; }
    """

    def __init__(self, parse: Callable[[str], int], where: str) -> None:
        super().__init__()
        self.parse = parse
        """The parser the app hands in."""
        self.where = where
        """Where the replay is now, for the prompt."""

    def compose(self) -> ComposeResult:
        """The position, the line and what it accepts."""
        with Vertical() as box:
            box.border_title = "Go to"
            yield Static(f"now at {self.where}")
            yield InOrderInput(placeholder="02:47  +5m  -30s  12m  end", id="when")
            yield Static(
                "a time of day (UTC), a step (+5m, -30s) or from the start (12m)", id="why"
            )

    def on_mount(self) -> None:
        """Focus the line."""
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _check(self, event: Input.Changed) -> None:
        why = self.query_one("#why", Static)
        try:
            if event.value.strip():
                self.parse(event.value)
            why.update("enter goes there, escape cancels")
            why.remove_class("-bad")
        except ValueError as exc:
            why.update(str(exc))
            why.add_class("-bad")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        try:
            target = self.parse(event.value)
        except ValueError:
            return  # the line under the input already says why
        self.dismiss(target)

    def action_cancel(self) -> None:
        """Close without moving."""
        self.dismiss(None)


class ReplayHelpScreen(HelpScreen):
    """The help with the replay's keys first."""

    sections: ClassVar[tuple[tuple[str, Sequence[tuple[str, str]]], ...]] = (
        ("Replay", REPLAY_KEYS),
        *HelpScreen.sections,
    )
