"""`ReplayApp`: the full app on a recording, with a timeline instead of a connection.

Why a subclass and not a mode flag inside `PoolmonApp`: everything the live app does (every
screen, window, drill-down, alert list) works unchanged on a `ReplaySource`, and only the keys
differ - space plays and pauses the recording instead of freezing the screen, and the
timeline keys (speed, go to, step by the window, jump to the next alert, crash or gap) are
added. Keys that would change a pool are refused by the read-only machinery the live app
already has, with the replay's reason (a recording cannot be steered).
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from poolmon.app.app import PoolmonApp
from poolmon.core.recording.timeline import SPEEDS, parse_seek
from poolmon.runtime.recording.replay import ReplaySource, length_words
from poolmon.screens.seek_dialog import ReplayHelpScreen, SeekDialog
from poolmon.widgets import _format as fmt

NS = 1_000_000_000
MARK_WORDS = {"alert": "alert firing", "crash": "worker crash", "gap": "gap"}
"""What each jump looks for, in words."""


class ReplayApp(PoolmonApp):
    """`PoolmonApp` on a `ReplaySource` (see the module doc).

    Args:
        source: The replay.
        **options: `PoolmonApp` options (window_s, refresh_hz, title).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "play", "Play/pause", key_display="␣"),
        Binding("p", "play", "Play/pause", show=False),
        Binding("greater_than_sign", "speed(1)", "Speed", key_display=">"),
        Binding("less_than_sign", "speed(-1)", "Slower", show=False),
        Binding("g", "goto", "Go to"),
        Binding("full_stop", "step(1)", "Step", show=False),
        Binding("comma", "step(-1)", "Back", show=False),
        Binding("n", "next_mark('alert')", "Next alert"),
        Binding("c", "next_mark('crash')", "Next crash", show=False),
        Binding("d", "next_mark('gap')", "Next gap", show=False),
        Binding("t", "tuning", "Tune", show=False),
        Binding("v", "advisor", "Advise", show=False),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `space`, `p` | Play / pause the recording. |
    | `>` `<` | Faster / slower (1x, 10x, 60x, 600x). |
    | `g` | Go to a typed time (02:47, +5m, -30s, 12m, end). |
    | `.` `,` | Step forward / back by the window. |
    | `n` `c` `d` | Jump to the next alert firing, worker crash, gap. |
    """

    def __init__(self, source: ReplaySource, **options: object) -> None:
        super().__init__(source, read_only=True, **options)  # type: ignore[arg-type]
        self.replay = source
        """The replay (the same object as `source`)."""

    # -- refusals ----------------------------------------------------------------------------

    def read_only_reason(self) -> str:
        """Why control keys do nothing on a replay."""
        return "a recording cannot be steered: attach to the live pool to change it"

    # -- the timeline ------------------------------------------------------------------------

    def action_pause(self) -> None:
        """`p` and space play or pause the recording (the live app's freeze has no use here)."""
        self.action_play()

    def action_play(self) -> None:
        """Play or pause."""
        self.replay.toggle_play()
        self.refresh_frame()

    def action_speed(self, direction: int) -> None:
        """One speed up or down (1x, 10x, 60x, 600x)."""
        tl = self.replay.timeline
        index = min(max(SPEEDS.index(tl.speed) + direction, 0), len(SPEEDS) - 1)
        with self.replay.lock:
            tl.set_speed(SPEEDS[index], self.replay.clock.monotonic_ns())
        self.notify(f"speed {tl.speed}x", timeout=2)
        self.refresh_frame()

    def action_goto(self) -> None:
        """Ask for a time and go there."""
        tl = self.replay.timeline
        at = self.replay.position_ns()

        def parse(text: str) -> int:
            return parse_seek(text, self.replay.position_ns(), tl.start_ns, tl.end_ns)

        def chosen(target: int | None) -> None:
            if target is not None:
                self._seek(target)

        total = length_words(tl.end_ns - tl.start_ns)
        where = f"{fmt.clock(at)} UTC, {length_words(at - tl.start_ns)} of {total}"
        self.push_screen(SeekDialog(parse, where), chosen)

    def action_step(self, direction: int) -> None:
        """Move by one window forward or back."""
        self._seek(self.replay.position_ns() + direction * self.window_s * NS)

    def action_next_mark(self, kind: str) -> None:
        """Jump to just after the next alert firing, worker crash or gap (or say there is none)."""
        target = self.replay.next_mark(kind)
        if target is None:
            self.notify(f"no {MARK_WORDS[kind]} after this point", timeout=4)
            return
        self._seek(target)
        self.notify(f"{MARK_WORDS[kind]} at {fmt.clock(target)} UTC", timeout=4)

    def action_help(self) -> None:
        """The help with the replay keys first."""
        if not isinstance(self.screen, ReplayHelpScreen):
            self.push_screen(ReplayHelpScreen())

    def _seek(self, target_ns: int) -> None:
        self.replay.seek(target_ns)
        self.refresh_frame()
