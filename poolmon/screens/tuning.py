"""The tuning screen (`t`): every run-time setting, edit one, see the pool's answer, undo.

The table and its ranges come from the pool (`settings` command); editing happens in a
`SettingEditor` checked as you type; enter asks for confirmation and the app sends `set`.
The change log below lists what the pool reported (this app's changes, other monitors',
`poolmon tune`'s), and `z` undoes this app's last change after confirmation. In read-only
mode editing and undo are disabled; pressing their keys says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import DataTable, Static

from poolmon.core.errors import ConfigError
from poolmon.core.tuning import spec_for
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets.change_log import ChangeLog
from poolmon.widgets.setting_editor import SettingEditor
from poolmon.widgets.settings_table import SettingsTable

EDIT_ACTIONS = frozenset({"edit", "undo"})
"""This screen's actions that change the pool: disabled in read-only mode."""


class TuningScreen(PoolmonScreen):
    """Settings table, the edit line, the change log."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit"),
        Binding("z", "undo", "Undo"),
        Binding("escape", "back", "Back"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `e`, `enter` | Edit the highlighted setting (then enter confirms, escape cancels). |
    | `z` | Undo this app's last change (asks first). |
    | `escape` | Cancel the edit, else back to the previous screen. |
    """

    DEFAULT_CSS = """
    TuningScreen SettingsTable { max-height: 70%; min-height: 6; }
    TuningScreen #tuning-hint { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    TuningScreen SettingEditor { display: none; }
    TuningScreen.-editing SettingEditor { display: block; }
    TuningScreen ChangeLog { height: 1fr; min-height: 4; }
    TuningScreen.-compact ChangeLog { min-height: 3; }
    TuningScreen.-compact.-editing ChangeLog { display: none; }
    TuningScreen.-compact.-editing SettingsTable { height: 1fr; min-height: 4; }
    """

    def __init__(self, edit_key: str | None = None) -> None:
        super().__init__()
        self.edit_key = edit_key
        """A setting to open the edit line on as soon as the settings arrive (from `o`)."""

    def compose_body(self) -> Iterable[Widget]:
        """Settings, hint line, editor (while editing), change log."""
        yield SettingsTable()
        yield Static("", id="tuning-hint")
        yield SettingEditor()
        yield ChangeLog()

    def on_mount(self) -> None:
        """Focus the table (after the base class's size guard and first frame)."""
        super().on_mount()
        self.query_one(SettingsTable).focus()

    def show_body(self, frame: Frame) -> None:
        """The settings as last fetched, what they stand on, the change log."""
        table = self.query_one(SettingsTable)
        table.show_settings(frame.settings)
        status = frame.settings_status or f"{len(frame.settings)} settings"
        table.border_subtitle = status
        log = self.query_one(ChangeLog)
        log.show_log(frame.snapshot.control_log)
        log.border_title = "Change log" + (
            f" · z undoes {frame.undo_hint}" if frame.undo_hint else ""
        )
        self._show_hint()
        if self.edit_key is not None and frame.settings:
            key, self.edit_key = self.edit_key, None
            self._edit_pending(key, frame)

    def _edit_pending(self, key: str, frame: Frame) -> None:
        """Open the edit line on `key` (an op's timeout may have no row yet: make its spec)."""
        by_key = {s.key: s for s in frame.settings}
        try:
            spec = spec_for(by_key, key)
        except ConfigError as exc:
            self.notify(str(exc), severity="warning")
            return
        table = self.query_one(SettingsTable)
        if key in by_key:
            table.move_cursor(row=list(by_key).index(key))
        if frame.read_only:
            self.app.action_explain_read_only()  # type: ignore[attr-defined]
            return
        self.add_class("-editing")
        self.query_one(SettingEditor).edit(spec)

    @property
    def editing(self) -> bool:
        """Whether the edit line is open."""
        return self.has_class("-editing")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out edit and undo in read-only mode (pressing them still says why)."""
        if action in EDIT_ACTIONS and self.frame is not None and self.frame.read_only:
            return None
        if action == "undo" and self.frame is not None and not self.frame.undo_hint:
            return None
        return True

    def action_edit(self) -> None:
        """Open the edit line on the highlighted setting."""
        table = self.query_one(SettingsTable)
        key = table.current_key
        spec = next((s for s in (self.frame.settings if self.frame else ()) if s.key == key), None)
        if spec is None:
            self.notify("no setting to edit yet: the pool has not sent its settings", timeout=4)
            return
        if not spec.live:
            self.notify(f"{spec.key} cannot change while the pool runs (needs a restart)")
            return
        self.add_class("-editing")
        self.query_one(SettingEditor).edit(spec)

    def action_undo(self) -> None:
        """Ask the app to undo its last change (it confirms first)."""
        self.app.action_undo_change()  # type: ignore[attr-defined]

    def action_back(self) -> None:
        """Cancel the edit, or leave the screen."""
        if self.editing:
            self.close_editor()
        else:
            self.app.pop_screen()

    def close_editor(self) -> None:
        """Close the edit line and give the table the focus back."""
        self.remove_class("-editing")
        self.query_one(SettingsTable).focus()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.check_action("edit", ()):
            self.action_edit()
        else:
            self.app.action_explain_read_only()  # type: ignore[attr-defined]

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_hint()

    @on(SettingEditor.Proposed)
    def _proposed(self, event: SettingEditor.Proposed) -> None:
        event.stop()
        self.close_editor()
        if event.value == event.spec.value:
            self.notify(f"{event.spec.key} is already that value: nothing to change")
            return
        self.app.propose_change(  # type: ignore[attr-defined]
            {event.spec.key: event.value}, {event.spec.key: event.spec.value}
        )

    def _show_hint(self) -> None:
        """Under the table: the highlighted setting's help and whether it applies at once."""
        frame = self.frame
        key = self.query_one(SettingsTable).current_key
        spec = next((s for s in (frame.settings if frame else ()) if s.key == key), None)
        text = ""
        if spec is not None:
            live = "applies at once" if spec.live else "needs a restart"
            text = f"{spec.key}: {spec.help} ({live})"
        self.query_one("#tuning-hint", Static).update(text)
