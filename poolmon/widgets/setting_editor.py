"""The line where a setting is edited: what it accepts, an input checked as you type, the verdict.

The check is the pool's own (`SettingSpec.parse`, with the range the pool reported), so what
this line accepts is what the pool will accept; the pool still checks again and has the last
word. Enter on a valid value posts `SettingEditor.Proposed`; the screen asks for confirmation.
"""

from __future__ import annotations

from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from poolmon.core.errors import ConfigError
from poolmon.core.tuning import SettingSpec, Value, format_value
from poolmon.widgets.in_order_input import InOrderInput
from poolmon.widgets.settings_table import shown_value


class SettingEditor(Vertical):
    """Edit one setting: a title with the range, an `Input`, and a verdict line."""

    DEFAULT_CSS = """
    SettingEditor {
        height: auto;
        border: round $accent;
        border-title-color: $text;
        padding: 0 1;
    }
    SettingEditor Input { margin: 0; background: $boost; }
    SettingEditor #verdict { height: 1; color: $text-muted; }
    SettingEditor.-invalid #verdict { color: $error; }
    SettingEditor.-valid #verdict { color: $success; }
    """

    class Proposed(Message):
        """The operator pressed enter on a valid value."""

        def __init__(self, spec: SettingSpec, value: Value) -> None:
            super().__init__()
            self.spec = spec
            """The setting being changed (with its value before the change)."""
            self.value = value
            """The new value, already checked."""

    spec: SettingSpec | None = None
    """The setting being edited."""

    def compose(self) -> ComposeResult:
        """What the setting accepts, the input, the verdict."""
        yield Static("", id="accepts")
        yield InOrderInput(id="value", compact=True)
        yield Static("", id="verdict")

    def edit(self, spec: SettingSpec) -> None:
        """Start editing `spec`: prefill its value and focus the input."""
        self.spec = spec
        self.border_title = f"Edit {spec.key}"
        self.border_subtitle = "enter: confirm · escape: cancel"
        none = f"; none = {spec.none_means}" if spec.nullable and spec.none_means else ""
        self.query_one("#accepts", Static).update(
            f"accepts {spec.range_text(unit=True)}{none} · now {shown_value(spec)}"
        )
        box = self.query_one("#value", Input)
        box.value = "none" if spec.value is None else format_value(spec.value)
        box.focus()
        self._judge(box.value)

    @on(Input.Changed, "#value")
    def _changed(self, event: Input.Changed) -> None:
        self._judge(event.value)

    @on(Input.Submitted, "#value")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = self._judge(event.value)
        if self.spec is not None and value is not _INVALID:
            self.post_message(self.Proposed(self.spec, value))  # type: ignore[arg-type]

    def _judge(self, text: str) -> Value | object:
        """Check `text` and say so on the verdict line; the value, or `_INVALID`."""
        spec = self.spec
        verdict = self.query_one("#verdict", Static)
        if spec is None:
            return _INVALID
        try:
            value = spec.parse(text)
        except ConfigError as exc:
            self.set_class(True, "-invalid")
            self.set_class(False, "-valid")
            verdict.update(f"✗ {exc}")
            return _INVALID
        self.set_class(False, "-invalid")
        self.set_class(True, "-valid")
        if value == spec.value:
            verdict.update("= the current value (nothing would change)")
        else:
            new = shown_value(_with_value(spec, value))
            verdict.update(f"✓ {shown_value(spec)} → {new}; enter to confirm")
        return value


_INVALID = object()


def _with_value(spec: SettingSpec, value: Value) -> SettingSpec:
    return replace(spec, value=value)
