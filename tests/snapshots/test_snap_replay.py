"""The app on a recording: overview at 160x50 and 80x24, and the go-to prompt.

The recording is written with the real codec from the seeded stream (a crash at 41 s, a
leaking worker, latency spikes; a 6 s link drop at 100 s), the viewer's clock is manual and
the refresh timer is off, so every byte of every frame is reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from poolmon.app.replay import ReplayApp
from poolmon.runtime.recording.replay import ReplaySource
from poolmon.testing.clock import ManualClock
from poolmon.testing.recordings import NS, synthesize


def _app(tmp_path: Path, at_s: int) -> ReplayApp:
    path = synthesize(tmp_path / "snap.pmrec", 150, gap=(100, 6))
    source = ReplaySource(path, clock=ManualClock())
    source.seek(source.file.first_ns + at_s * NS)  # the recorded moment, not the replay start
    return ReplayApp(source, refresh_hz=0)


def test_replay_overview_wide(snap_compare: Any, tmp_path: Path) -> None:
    """After the link drop: the gap in the charts, the crashed worker, REPLAY in the header."""
    assert snap_compare(_app(tmp_path, 130), terminal_size=(160, 50))


def test_replay_overview_narrow(snap_compare: Any, tmp_path: Path) -> None:
    """80 columns: the REPLAY state and the replay's position stay readable."""
    assert snap_compare(_app(tmp_path, 75), terminal_size=(80, 24))


def test_replay_go_to_prompt(snap_compare: Any, tmp_path: Path) -> None:
    """`g`: where the replay is, the line, and why a bad entry is refused."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("g", *"+1x")
        await pilot.pause()

    assert snap_compare(_app(tmp_path, 75), terminal_size=(80, 24), run_before=run_before)
