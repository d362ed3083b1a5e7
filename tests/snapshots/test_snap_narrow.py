"""Long names and figures at 80x24 (and 160x50): shown whole, wrapped, or counted, never cut.

Recent failures whose operation and exception names are longer than any the demo uses, and a
message longer than the line; the pools' and tasks' columns fit their longest cell, and the
message is cut between words (`poolmon/widgets/_clip_words.py`).
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from poolmon.screens.failures import FailuresScreen
from poolmon.testing.failure_events import exception_event

SIZES = {"80x24": (80, 24), "160x50": (160, 50)}

by_size = pytest.mark.parametrize("size", list(SIZES))


@by_size
def test_failures_with_long_names(snap_compare: Any, make_app: Any, size: str) -> None:
    """`reconcile_customer_ledger` and `ConnectionRefusedError` whole; the message by words."""
    app, source = make_app()
    now = source.clock.time_ns()
    source.feed(
        [
            exception_event(
                now - 5 * 10**9,
                1_204_577,
                op="reconcile_customer_ledger",
                worker_id=12,
                error_type="ConnectionRefusedError",
                message="[Errno 111] could not reach ledger-db-03.internal:5432 after 3 tries",
            ),
            exception_event(now - 2 * 10**9, 1_204_580, message="order 10977 has no line items"),
        ]
    )

    async def run_before(pilot: Pilot[None]) -> None:
        app.refresh_frame()
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, FailuresScreen)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)
