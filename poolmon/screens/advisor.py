"""The advisor screen (`v`): what to change and why, and what the auto-tuner did.

Findings on top, most urgent first (enter: the evidence behind one; `x`: apply its action
after a confirmation), the auto-tuner's change log below (`g` turns auto-tuning on or off,
also confirmed). Changes go through the same endpoint commands as the tuning screen (`set`,
`resize`, `recycle_worker`, `autotune`), so they are refused the same way in read-only mode.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widget import Widget

from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.widgets.autotune_log import AutotuneLog
from poolmon.widgets.findings_list import FindingsList


class AdvisorScreen(PoolmonScreen):
    """Findings and the auto-tuning change log (see module doc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("x", "apply", "Apply"),
        Binding("g", "autotune", "Autotune on/off"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `enter` | The highlighted finding's evidence, with a chart. |
    | `x` | Apply the highlighted finding's action (confirmed; refused read-only). |
    | `g` | Turn the pool's auto-tuning on or off (confirmed; refused read-only). |
    | `escape` | Back. |
    """

    DEFAULT_CSS = """
    AdvisorScreen FindingsList { height: auto; max-height: 65%; }
    AdvisorScreen AutotuneLog { height: 1fr; max-height: 100%; }
    AdvisorScreen.-compact FindingsList { height: 1fr; max-height: 100%; }
    AdvisorScreen.-compact AutotuneLog { height: auto; max-height: 8; }
    """

    def compose_body(self) -> Iterable[Widget]:
        """The findings, then the change log."""
        yield FindingsList()
        yield AutotuneLog()

    def on_mount(self) -> None:
        """Focus the findings so arrows and enter work at once."""
        super().on_mount()
        self.query_one(FindingsList).focus()

    def show_body(self, frame: Frame) -> None:
        """Show the frame's findings and the pool's auto-tuning state."""
        self.query_one(FindingsList).show_findings(frame.findings, frame.advice_note)
        log = self.query_one(AutotuneLog)
        log.now_ns = frame.snapshot.taken_at_ns
        log.view = frame.snapshot.autotune

    def action_apply(self) -> None:
        """Apply the highlighted finding's action (the app confirms and sends it)."""
        finding = self.query_one(FindingsList).current
        if finding is None:
            self.notify("No finding to apply.", severity="warning")
            return
        self.app.apply_finding(finding)  # type: ignore[attr-defined]

    def action_autotune(self) -> None:
        """Turn auto-tuning on or off (the app confirms and sends it)."""
        self.app.toggle_autotune()  # type: ignore[attr-defined]

    @on(FindingsList.FindingChosen)
    def _chosen(self, event: FindingsList.FindingChosen) -> None:
        finding = next(
            (f for f in self.query_one(FindingsList).findings if f.key == event.key), None
        )
        if finding is not None:
            from poolmon.screens.evidence import EvidenceScreen

            self.app.push_screen(EvidenceScreen(finding))
