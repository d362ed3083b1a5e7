"""A text input that applies editing keys in the order they were typed.

Why: Textual's `Input` inserts a character from its own key handler, but runs its editing
keys (backspace, delete, arrows, enter...) as bindings, which fire only after the key event
has bubbled up to the app. When two keys arrive in one read, as they do when the app is busy
drawing a frame or a slow ssh link batches them, the second key is handled before the first:
backspace then `4` on `2` inserted the `4` and then deleted it, so the field kept `2` and the
operator's new size was silently lost (seen in the tuning editor under tmux; reproduced in
tests/ui/test_ui_input_order.py by posting the two keys back to back).

`InOrderInput` runs its own bindings from its key handler, in arrival order, and stops the
event so the binding does not run a second time on the way up. App-level priority bindings
are checked by the app before the key reaches the widget, as before.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding
from textual.widgets import Input


def _own_actions() -> dict[str, str]:
    """`Input`'s key -> action map, from its `BINDINGS` (so it follows the pinned Textual)."""
    actions: dict[str, str] = {}
    for binding in Input.BINDINGS:
        if isinstance(binding, Binding):
            for key in binding.key.split(","):
                actions[key.strip()] = binding.action
    return actions


class InOrderInput(Input):
    """An `Input` whose editing keys take effect in the order typed (see module doc)."""

    OWN_ACTIONS: ClassVar[dict[str, str]] = _own_actions()
    """Key -> action of the bindings `Input` defines, run at once from `_on_key`."""

    async def _on_key(self, event: events.Key) -> None:
        """Run an editing key's action now; anything else as `Input` does."""
        action = self.OWN_ACTIONS.get(event.key)
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)
