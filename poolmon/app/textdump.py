"""The current screen as plain text, for assertions in tests and for headless smoke runs.

SVG screenshots are for people; a test that checks "the screen shows live numbers" wants the
characters. This renders the active screen exactly as `export_screenshot` does, as text.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from textual.app import App


def screen_text(app: App[Any]) -> str:
    """Return the active screen's characters, one line per terminal row."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()
