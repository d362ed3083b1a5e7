"""Keys typed while a text field opens go to that field, as if they had been typed slowly.

Why: Textual handles a key in two passes. The app first hands it to the focused widget; only
when the key has bubbled back up does the app run its binding. Every key the terminal sent in
the same read (fast typing, a paste, an ssh link that batches keys) has by then been handed
to the widget that was focused before. So `/busy` opened the worker filter empty and ran `s`
(sort by state) and `y` as commands, and `g+5s` in a replay left only `s` in the Go-to field.

`TypeaheadMixin` knows which actions open a text field (`FIELD_OPENERS`). When the key about
to be handed on is bound to one of them, and no text field has the focus already, the app
holds the keys that follow until a text field takes the focus (or `HOLD_LIMIT_S` passes, for
an opener that opened nothing, e.g. a refusal in read-only mode), then handles the held keys
in order, as it would have had they come one by one.
"""

from __future__ import annotations

import time
from typing import ClassVar

from textual import events
from textual.app import App
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input

HOLD_LIMIT_S = 0.5
"""The longest the app holds keys for a field that does not open (a refusal, say)."""

LEAVE_LIMIT_S = 0.15
"""The longest it holds keys after enter or escape in a field that stays open (a bad value)."""

HOLD_POLL_S = 0.02
"""How often a hold checks whether the focus has moved yet."""

CLOSING_KEYS = frozenset({"enter", "escape", "tab", "shift+tab"})
"""Keys that, in a text field, may close it and move the focus elsewhere."""

OPENING = "a text field"
"""What a hold after a field-opening key waits for."""


def action_name(action: str) -> str:
    """The bare name of a binding's action: `app.goto`, `refuse('x')` -> `goto`, `refuse`."""
    return action.split("(", 1)[0].rsplit(".", 1)[-1]


class TypeaheadMixin(App[None]):
    """Hold the keys that follow a key which moves the focus, until the focus has moved."""

    FIELD_OPENERS: ClassVar[frozenset[str]] = frozenset(
        {"filter", "goto", "ack", "silence", "edit", "op_timeout"}
    )
    """Actions that open a text field and focus it wherever they are bound (the filter, Go to,
    ack, silence, a setting's and an operation timeout's edit line). A widget whose own action
    does a screen's field-opening action (enter on the tuning screen's table does `edit`) maps
    it in `OPENS_FIELD`, and holds keys only when the screen allows that action (not when
    read-only)."""

    _held_keys: list[events.Key] | None = None
    _waiting_for: Widget | str | None = None
    """`OPENING` (a text field to take the focus), a field (to lose it), or nothing."""
    _waiting_since = 0.0
    _hold_timer: Timer | None = None

    def _held(self) -> list[events.Key]:
        """The keys held back, oldest first."""
        if self._held_keys is None:
            self._held_keys = []
        return self._held_keys

    def opens_field(self, key: str) -> bool:
        """Whether Textual will run a field-opening action for `key`, with focus where it is.

        Textual runs the first binding for the key, from the focused widget up, whose
        `check_action` allows it; a text field with the focus takes typed keys itself.
        """
        if isinstance(self.focused, Input):
            return False
        for namespace, bindings in self.screen._modal_binding_chain:
            for binding in bindings.key_to_bindings.get(key, ()):
                if binding.priority:
                    continue
                name = action_name(binding.action)
                if namespace.check_action(name, ()):
                    if name in self.FIELD_OPENERS:
                        return True
                    own: dict[str, str] = getattr(namespace, "OPENS_FIELD", {})
                    return name in own and bool(self.screen.check_action(own[name], ()))
        return False

    def _wait_after(self, key: events.Key) -> Widget | str | None:
        """What the keys after `key` must wait for, with the focus where it is now."""
        if isinstance(self.focused, Input):
            return self.focused if key.key in CLOSING_KEYS else None
        return OPENING if self.opens_field(key.key) else None

    def _focus_moved(self) -> bool:
        """Whether what the hold waits for has happened, or waited long enough."""
        waiting = self._waiting_for
        if waiting is None:
            return True
        waited = time.monotonic() - self._waiting_since
        if waiting is OPENING:
            return isinstance(self.focused, Input) or waited >= HOLD_LIMIT_S
        return self.focused is not waiting or waited >= LEAVE_LIMIT_S

    async def on_event(self, event: events.Event) -> None:
        """Hold keys while the focus moves to or from a text field; the rest as Textual does."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._waiting_for is None:
                await self._handle_key(event)
                return
            self._held().append(event)
            await self._drain()
            return
        await super().on_event(event)

    async def _handle_key(self, key: events.Key) -> None:
        """Note what the keys after this one wait for, then let Textual handle it."""
        waiting = self._wait_after(key)
        if waiting is not None:
            self._waiting_for, self._waiting_since = waiting, time.monotonic()
            if self._hold_timer is None:
                self._hold_timer = self.set_interval(HOLD_POLL_S, self._drain)
        await super().on_event(key)

    async def _drain(self) -> None:
        """Handle the held keys, in order, each once the focus has moved as the last needed."""
        while self._focus_moved():
            self._waiting_for = None
            held = self._held()
            if not held:
                break
            await self._handle_key(held.pop(0))
        if self._waiting_for is None and self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
