"""Editing keys apply in the order typed, even when two keys arrive in one read.

The driver posts every key it parsed from one read straight to the app; posting two keys back
to back here does the same. A plain Textual `Input` lost "backspace, 4" that way (the binding
ran after the `4` was inserted, deleting it); every text field of the app is an
`InOrderInput`, which keeps the order.
"""

from __future__ import annotations

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Input

from poolmon.widgets.in_order_input import InOrderInput
from tests.ui.test_ui_keys import async_test


class OneField(App[None]):
    def __init__(self, field: Input) -> None:
        super().__init__()
        self.field = field

    def compose(self) -> ComposeResult:
        yield self.field


async def typed_together(field: Input, before: str, keys: list[tuple[str, str | None]]) -> str:
    """Type `before` key by key, then post `keys` in one go; the field's value."""
    app = OneField(field)
    async with app.run_test() as pilot:
        await pilot.press(*before)
        for key, character in keys:
            app.post_message(events.Key(key, character))
        for _ in range(3):
            await pilot.pause()
        return field.value


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ([("backspace", "\x7f"), ("4", "4")], "54"),
        ([("left", None), ("9", "9")], "596"),
        ([("home", None), ("1", "1")], "156"),
        ([("backspace", "\x7f"), ("backspace", "\x7f"), ("7", "7")], "7"),
    ],
)
@async_test
async def test_in_order_input_applies_keys_as_typed(
    keys: list[tuple[str, str | None]], expected: str
) -> None:
    assert await typed_together(InOrderInput(), "56", keys) == expected


@async_test
async def test_textuals_input_loses_them_which_is_why_we_have_ours() -> None:
    """If this starts passing, Textual fixed the order and `InOrderInput` can go."""
    assert await typed_together(Input(), "56", [("backspace", "\x7f"), ("4", "4")]) == "56"
