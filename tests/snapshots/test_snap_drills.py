"""Recent failures, a failure's traceback and an operation's drill-down, at both sizes."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from poolmon.screens.failure_detail import FailureDetailScreen
from poolmon.screens.failures import FailuresScreen
from poolmon.screens.operation_detail import OperationDetailScreen
from poolmon.testing.failure_events import TRACEBACK, exception_event

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}

by_size = pytest.mark.parametrize("size", list(SIZES))

DEEP = (
    "Traceback (most recent call last):\n"
    + "".join(
        f'  File "/srv/app/pipeline.py", line {10 + i}, in stage_{i}\n'
        f"    return stage_{i + 1}(doc)\n"
        for i in range(30)
    )
    + "KeyError: 'customer_id'\n"
)


def with_failures(make_app: Any) -> Any:
    app, source = make_app()
    now = source.clock.time_ns()
    source.feed(
        [
            exception_event(
                now - 61 * 10**9,
                10_412,
                op="render_report",
                worker_id=5,
                error_type="KeyError",
                message="'customer_id'",
                traceback=DEEP,
            ),
            exception_event(now - 12 * 10**9, 10_977),
            exception_event(
                now - 2 * 10**9,
                11_305,
                op="fetch_profile",
                worker_id=2,
                error_type="ConnectionError",
                message="connection reset by peer (profile-db:5432)",
                traceback=TRACEBACK.replace(
                    "ValueError: order 4711 has no line items", "ConnectionError: connection reset"
                ),
            ),
        ]
    )
    return app


@by_size
def test_recent_failures(snap_compare: Any, make_app: Any, size: str) -> None:
    app = with_failures(make_app)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("E")
        assert isinstance(app.screen, FailuresScreen)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@by_size
def test_failure_traceback(snap_compare: Any, make_app: Any, size: str) -> None:
    """The oldest failure: a 30-frame traceback, scrollable, its last lines out of view."""
    app = with_failures(make_app)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("E", "down", "down", "enter")
        assert isinstance(app.screen, FailureDetailScreen)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@by_size
def test_operation_drill_down(snap_compare: Any, make_app: Any, size: str) -> None:
    """fetch_profile: its rate, failures by type, histogram, slowest tasks and workers."""
    app, _ = make_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("o", "down", "down", "down", "enter")
        assert isinstance(app.screen, OperationDetailScreen)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)
