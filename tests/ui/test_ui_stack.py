"""`x` in a worker's drill-down: the stack modal, the command it sends, refresh, refusal, help."""

from __future__ import annotations

from test_ui_keys import async_test  # one event-loop runner for every Pilot test
from textual.pilot import Pilot

from poolmon.app.app import PoolmonApp
from poolmon.app.textdump import screen_text
from poolmon.screens.help import KEYS
from poolmon.screens.stack import StackScreen
from poolmon.screens.worker_detail import WorkerDetailScreen
from poolmon.testing.clock import ManualClock
from poolmon.testing.stack_reply import stack_responder
from poolmon.testing.streams import FeedSource, StreamGenerator, StreamSpec

SIZE = (120, 40)


def build() -> tuple[PoolmonApp, FeedSource]:
    clock = ManualClock()
    source = FeedSource(clock, responder=stack_responder)
    generator = StreamGenerator(StreamSpec(), clock.time_ns())
    source.attach(generator.pool_info())
    source.play(generator, 20)
    return PoolmonApp(source, refresh_hz=0), source


async def settle(app: PoolmonApp, pilot: Pilot[None]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


@async_test
async def test_x_shows_the_stack_and_x_again_refreshes() -> None:
    app, source = build()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "enter")
        detail = app.screen
        assert isinstance(detail, WorkerDetailScreen)
        await pilot.press("x")
        await settle(app, pilot)
        assert isinstance(app.screen, StackScreen)
        assert source.commands == [("worker_stack", {"worker_id": detail.worker_id})]
        text = screen_text(app)
        assert "stack from inprocess" in text
        assert "limits: in-worker dumper" in text
        assert "task 17342  op run_batch  running 93.4 s" in text
        assert "/srv/app/jobs.py:88 in reindex" in text
        assert "with self._index_lock:" in text
        await pilot.press("x")
        await settle(app, pilot)
        assert len(source.commands) == 2
        assert isinstance(app.screen, StackScreen)  # refreshed in place, not stacked twice
        await pilot.press("escape")
        assert app.screen is detail


@async_test
async def test_a_refusal_is_shown_in_the_modal() -> None:
    app, _ = build()
    async with app.run_test(size=SIZE) as pilot:
        app.show_worker_stack(999)
        await settle(app, pilot)
        assert "no stack: worker_stack: no live worker with id 999" in screen_text(app)


def test_help_lists_the_key() -> None:
    assert any(key == "x" and "stack" in text for key, text in KEYS)
