"""What every poolmon screen shares: header, status line, key footer, too-small guard.

A subclass composes its body in `compose_body()` and draws a frame in `show_body()`. Below
`MIN_WIDTH` x `MIN_HEIGHT` the body is replaced by a plain message, because a dashboard
squeezed into a few cells is worse than none.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from poolmon.screens.frame import Frame
from poolmon.widgets.header_bar import HeaderBar
from poolmon.widgets.key_footer import KeyFooter
from poolmon.widgets.status_bar import StatusBar, gaps_in_window

MIN_WIDTH = 60
"""Narrowest terminal the layouts are designed for."""
MIN_HEIGHT = 16
"""Shortest terminal the layouts are designed for."""
COMPACT_HEIGHT = 34
"""Below this height screens switch to their `-compact` layout (fixed chart heights)."""


COMPACT_FOOTER_WIDTH = 120
"""Below this width the key footer drops the padding around each key."""


class PoolmonScreen(Screen[None]):
    """A screen fed `Frame`s by the app, with the shared chrome around its body."""

    DEFAULT_CSS = """
    PoolmonScreen #too-small {
        display: none;
        width: 1fr;
        height: 1fr;
        content-align: center middle;
        text-align: center;
        color: $warning;
    }
    PoolmonScreen.-too-small #too-small { display: block; }
    PoolmonScreen.-too-small #body { display: none; }
    """

    frame: Frame | None = None
    """The frame shown last (None until the first refresh)."""

    class FrameWanted(Message):
        """Posted when the screen becomes active again and wants a fresh frame now."""

    def on_screen_resume(self) -> None:
        """Ask the app for a fresh frame (the one shown may be from before a drill-down)."""
        self.post_message(self.FrameWanted())

    def compose(self) -> ComposeResult:
        """Header, body, too-small message, status line, footer."""
        yield HeaderBar()
        with Container(id="body"):
            yield from self.compose_body()
        yield Static("", id="too-small")
        yield StatusBar()
        yield KeyFooter()

    def compose_body(self) -> Iterable[Widget]:
        """The screen's own widgets; subclasses override."""
        return ()

    def on_mount(self) -> None:
        """Apply the size guard and any frame that arrived before mounting."""
        self._check_size(self.app.size.width, self.app.size.height)
        if self.frame is not None:
            self.show_frame(self.frame)

    def on_resize(self, event: events.Resize) -> None:
        """Re-check the size guard."""
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "-too-small")
        self.set_class(height < COMPACT_HEIGHT, "-compact")
        self.set_class(width >= COMPACT_FOOTER_WIDTH, "-wide")  # room to spread panels out
        if self.is_mounted:  # the footer itself drops what does not fit (Quit and Help last)
            footer = self.query_one(KeyFooter)
            footer.compact = width < COMPACT_FOOTER_WIDTH
            # ctrl+p is listed in help; a narrow footer has better use for the room
            footer.show_command_palette = width >= COMPACT_FOOTER_WIDTH
        if small:
            self.query_one("#too-small", Static).update(
                f"Terminal too small: {width} x {height}.\n"
                f"poolmon needs at least {MIN_WIDTH} x {MIN_HEIGHT}; enlarge the window or press q."
            )

    def show_frame(self, frame: Frame) -> None:
        """Draw a frame: shared chrome first, then the body."""
        self.frame = frame
        if not self.is_mounted or not self.query(HeaderBar):  # children not composed yet
            return
        header = self.query_one(HeaderBar)
        header.snapshot = frame.snapshot
        header.state = frame.state
        header.window_s = frame.window_s
        header.paused = frame.paused
        header.read_only = frame.read_only
        header.alerts = frame.snapshot.alerts
        header.pool_label, header.behind = frame.pool_label, frame.behind
        status = self.query_one(StatusBar)
        status.detail = frame.detail
        status.severity = frame.severity
        status.dropped = frame.dropped
        status.gaps = gaps_in_window(frame.snapshot)
        status.message = frame.message
        status.display = status.has_text  # an empty line is a row the body can use
        self.show_body(frame)

    def show_body(self, frame: Frame) -> None:
        """Draw the body from a frame; subclasses override."""
