"""The app's `R` on a real pool: the status line says it records, `R` again saves a file
that replays with the pool's counts; on a replay `R` says why it does nothing."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from recorded_pool import async_test, run_load

from poolmon import Pool
from poolmon.app.app import PoolmonApp
from poolmon.app.replay import ReplayApp
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.recording.replay import ReplaySource
from poolmon.testing.clock import ManualClock
from poolmon.testing.recordings import synthesize


@pytest.fixture
def state_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pmR", dir="/tmp"))
    monkeypatch.setenv("XDG_STATE_HOME", str(path))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@async_test
async def test_r_records_the_attached_pool(state_home: Path) -> None:
    pool = Pool(2, name="watched", alerts=False)
    try:
        pool.wait_ready(30)
        monitor = Monitor(state_home / "poolmon" / "watched.sock")
        app = PoolmonApp(monitor, refresh_hz=0)
        async with app.run_test(size=(160, 50)) as pilot:
            deadline = time.monotonic() + 20
            while monitor.status().state != "live" and time.monotonic() < deadline:
                await pilot.pause(0.1)
            app.refresh_frame()
            await pilot.press("R")
            assert app.recorder is not None
            while app.recorder.writer is None and time.monotonic() < deadline:
                await pilot.pause(0.05)
            run_load(pool, 1500, 10)
            await pilot.pause(1.5)
            detail = app._frame_for(app.screen).detail
            assert detail.startswith("● REC watched-")
            assert ".pmrec" in detail
            path = app.recorder.path
            await pilot.press("R")
            assert app.recorder is None
            notes = [str(n.message) for n in app._notifications]
            assert any(f"{path}: " in n and "1,510 tasks" in n for n in notes), notes
    finally:
        pool.shutdown()
    assert path.parent == state_home / "poolmon" / "recordings"
    source = ReplaySource(path, clock=ManualClock())
    source.seek(source.timeline.end_ns)
    snap = source.snapshot(3600)
    assert snap.tasks_finished_total == 1510
    assert snap.tasks_failed_total == 10
    source.stop()


@async_test
async def test_r_on_a_replay_says_it_is_one(tmp_path: Path) -> None:
    source = ReplaySource(synthesize(tmp_path / "r.pmrec", 20), clock=ManualClock())
    app = ReplayApp(source, refresh_hz=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("R")
        assert app.recorder is None
        assert any("already a recording" in str(n.message) for n in app._notifications)
