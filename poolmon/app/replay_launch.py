"""`poolmon replay FILE` and `poolmon attach --replay FILE`: open the app on a recording.

Why checks before the screen: a file that is not a recording, comes from a newer poolmon or
is damaged before its first block is refused here with one line on stderr (via
`poolmon.cli`), never a full-screen app that shows nothing. A file damaged later opens; the
replay says where it stops.
"""

from __future__ import annotations

import argparse
import sys

from poolmon.core.errors import ConfigError


def run_replay(args: argparse.Namespace) -> int:
    """Open the recording (`args.file`, or `args.replay` from attach) and run the app on it."""
    from poolmon.app.launch import WINDOW_NAMES, app_settings
    from poolmon.app.replay import ReplayApp
    from poolmon.app.tty_check import require_terminal
    from poolmon.runtime.recording.replay import ReplaySource

    path = getattr(args, "file", None) or args.replay
    source = ReplaySource(path)  # a bad file is said first, with or without a terminal
    try:
        at = getattr(args, "at", None)
        if at:
            try:
                source.seek_text(at)
            except ValueError as exc:
                raise ConfigError(f"--at: {exc}") from None
        speed = getattr(args, "speed", 1) or 1
        source.timeline.set_speed(speed, source.clock.monotonic_ns())
        if getattr(args, "play", False):
            source.toggle_play()
        require_terminal("replay")  # a redirected stream would leave the screen blank
        if source.file.damage is not None:
            print(f"poolmon replay: {path}: {source.file.damage.describe()}", file=sys.stderr)
        eff = app_settings(args)
        app = ReplayApp(
            source,
            window_s=WINDOW_NAMES[eff.get("app", "window")],
            refresh_hz=float(eff.get("app", "refresh")),
            title=f"poolmon replay {source.file.path.name}",
        )
        app.theme = str(eff.get("app", "theme"))
        app.run()
    finally:
        source.stop()
    return 0
