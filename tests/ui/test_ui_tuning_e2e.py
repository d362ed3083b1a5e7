"""End to end: a real pool, the app on a real `Monitor`, a change made with keys, read back
with `poolmon tune NAME --show`, and undone with `z`."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import tempfile
import time
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from poolmon.app.app import PoolmonApp
from poolmon.app.textdump import screen_text
from poolmon.cli import main
from poolmon.runtime.endpoint.paths import socket_dir
from poolmon.runtime.monitor import Monitor
from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry
from poolmon.screens.confirm import ConfirmScreen
from poolmon.screens.tuning import TuningScreen

pytestmark = pytest.mark.integration


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pool]:
    """A real 2-worker pool serving its endpoint in a private runtime folder, by name."""
    with tempfile.TemporaryDirectory(prefix="pme", dir="/tmp") as runtime:
        monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
        pool = Pool(2, name="e2etune", max_size=6, telemetry=Telemetry(), resource_interval=None)
        try:
            assert pool.wait_ready(20)
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def tune_show() -> dict[str, object]:
    """`poolmon tune e2etune --show --json`, as a script would run it: {key: value}."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["tune", "e2etune", "--show", "--json"]) == 0
    return {row["key"]: row["value"] for row in json.loads(out.getvalue())["settings"]}


def test_change_from_the_app_read_back_by_the_cli_then_undone(pool: Pool) -> None:
    monitor = Monitor(socket_dir() / "e2etune.sock")
    app = PoolmonApp(monitor, refresh_hz=4)
    seen: dict[str, object] = {}

    async def scenario() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await until(pilot, lambda: monitor.status().state == "live", "a live connection")
            await pilot.press("t")
            await until(pilot, lambda: len(app.settings) >= 10, "the pool's settings")
            assert isinstance(app.screen, TuningScreen)
            await pilot.press("down", "down", "down", "e")  # task_timeout_s
            box = app.screen.query_one("#value", Input)
            box.value = ""
            await pilot.press(*"12.5", "enter")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await until(pilot, lambda: pool.stats().task_timeout_s == 12.5, "the change")
            seen["after_set"] = await asyncio.to_thread(tune_show)
            await until(
                pilot,
                lambda: "task_timeout_s none → 12.5" in screen_text(app),
                "the change in the change log (the pool's event, back through the endpoint)",
            )
            await until(pilot, lambda: "12.5 s" in screen_text(app), "the settings refetched")
            await pilot.press("z")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await until(pilot, lambda: pool.stats().task_timeout_s is None, "the undo")
            seen["after_undo"] = await asyncio.to_thread(tune_show)
            await until(
                pilot, lambda: "undo: task_timeout_s 12.5 → none" in screen_text(app), "undo log"
            )
            seen["message"] = app.message

    asyncio.run(scenario())
    after_set = seen["after_set"]
    after_undo = seen["after_undo"]
    assert isinstance(after_set, dict)
    assert isinstance(after_undo, dict)
    assert after_set["task_timeout_s"] == 12.5
    assert after_undo["task_timeout_s"] is None
    assert seen["message"] == "undone: task_timeout_s 12.5 → none"
