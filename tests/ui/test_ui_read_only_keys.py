"""Read-only: every key that would change the pool, on every screen, says why it does nothing.

A refused key that stays silent looks like a broken key. Each case opens a screen on a
read-only app, presses the key and checks that a notification names the read-only mode and
that no command left the app.
"""

from __future__ import annotations

from typing import Any

import pytest

from poolmon.screens.alerts import AlertsScreen
from tests.ui.test_ui_keys import async_test

CASES: list[tuple[str, tuple[str, ...], str]] = [
    ("overview", (), "plus"),
    ("overview", (), "minus"),
    ("operations", ("o",), "e"),
    ("drill-down", ("enter",), "r"),
    ("drill-down", ("enter",), "K"),
    ("tuning", ("t",), "e"),
    ("tuning", ("t",), "z"),
    ("advisor", ("v",), "x"),
    ("advisor", ("v",), "g"),
    ("alerts", ("a",), "k"),
    ("alerts", ("a",), "S"),
    ("alerts", ("a",), "u"),
    ("operation drill-down", ("o", "enter"), "plus"),
    ("failures", ("E",), "minus"),
]
"""Screen, keys that open it from the overview, the change key pressed there."""


@pytest.mark.parametrize(("screen", "opens", "key"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
@async_test
async def test_a_refused_key_says_why(
    ui_app: Any, screen: str, opens: tuple[str, ...], key: str
) -> None:
    app, source = ui_app(read_only=True)
    seen: list[str] = []
    real_notify = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        seen.append(f"{kwargs.get('title', '')} {message}")
        real_notify(message, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for k in opens:
            await pilot.press(k)
            await pilot.pause()
        if screen == "alerts":
            assert isinstance(app.screen, AlertsScreen)
        seen.clear()
        await pilot.press(key)
        await pilot.pause()
    assert any("read-only" in s.lower() for s in seen), f"{screen} {key}: {seen}"
    assert not [c for c in source.commands if c[0] not in ("settings",)]
