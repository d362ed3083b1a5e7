"""The silence dialog (`S`): how long, which alerts, and why.

The duration is picked from presets (15m, 1h, 4h, 1d) or typed (`90m`, `1h30m`). The matchers
are prefilled from the selected alert (alertname, pool, op or worker), one per line, each
editable and checked as it is typed; a blank line is dropped, and one spare line adds a
matcher. The dialog counts the active alerts the matchers select, so a too-broad silence is
seen before it is sent. Enter sends (when everything is valid), escape cancels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from poolmon.core.alerts.model import Alert
from poolmon.screens._silence_form import (
    DEFAULT_DURATION,
    DURATION_CHOICES,
    SilenceRequest,
    build_request,
    parse_duration,
    parse_matcher,
    prefill,
)
from poolmon.widgets.in_order_input import InOrderInput

MATCHER_LINES = 4
"""Matcher inputs shown (the prefilled ones plus at least one spare)."""


class SilenceDialog(ModalScreen[SilenceRequest | None]):
    """Ask for a silence; dismiss with the request, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    """
    | Key | Action |
    | :- | :- |
    | `enter` | Send the silence (when valid). |
    | `escape` | Cancel. |
    """

    DEFAULT_CSS = """
    SilenceDialog { align: center middle; }
    SilenceDialog > Vertical {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $warning;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
    }
    SilenceDialog Horizontal { height: 1; margin-top: 1; }
    SilenceDialog .label { width: 10; color: $text-muted; }
    SilenceDialog Input { width: 1fr; background: $panel; }
    SilenceDialog Input:focus { background: $primary 25%; }
    SilenceDialog Input.-invalid { color: $error; }
    SilenceDialog #duration { width: 12; margin-right: 1; }
    SilenceDialog .preset { min-width: 5; margin-right: 1; }
    SilenceDialog .matcher-row { margin-top: 0; }
    SilenceDialog #matchers-title { margin-top: 1; }
    SilenceDialog #problems { color: $error; height: auto; }
    SilenceDialog #problems.-empty, SilenceDialog #scope.-empty { display: none; }
    SilenceDialog #scope { color: $text-muted; height: auto; margin-top: 1; }
    SilenceDialog #buttons { height: 1; margin-top: 1; align-horizontal: right; }
    SilenceDialog #buttons Button { margin-left: 2; }
    """

    def __init__(self, alert: Alert | None, alerts: Sequence[Alert] = ()) -> None:
        super().__init__()
        self.alert = alert
        """The alert the matchers were prefilled from (None: start blank)."""
        self.alerts = tuple(alerts)
        """The pool's active alerts, to count what the matchers select."""
        lines = prefill(alert)
        self._prefill = lines + [""] * max(1, MATCHER_LINES - len(lines))

    def compose(self) -> ComposeResult:
        """Duration, matchers, comment, what it selects, and the buttons."""
        box = Vertical()
        box.border_title = "Silence alerts"
        box.border_subtitle = "enter silences · escape cancels"
        with box:
            with Horizontal():
                yield Static("For", classes="label")
                yield InOrderInput(DEFAULT_DURATION, id="duration", compact=True)
                for choice in DURATION_CHOICES:
                    yield Button(choice, id=f"preset-{choice}", classes="preset", compact=True)
            yield Static(
                "Matchers: all must match (= != =~ !~); clear a line to drop it",
                id="matchers-title",
                classes="label-line",
            )
            for i, text in enumerate(self._prefill):
                with Horizontal(classes="matcher-row"):
                    yield Static(f"  {i + 1}", classes="label")
                    yield InOrderInput(
                        text,
                        placeholder="label=value",
                        id=f"matcher-{i}",
                        compact=True,
                        classes="matcher",
                    )
            with Horizontal():
                yield Static("Comment", classes="label")
                yield InOrderInput(placeholder="why (optional)", id="comment", compact=True)
            yield Static("", id="problems")
            yield Static("", id="scope")
            with Horizontal(id="buttons"):
                yield Button("Silence", id="send", variant="warning", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        """Check the prefill and focus the duration."""
        self._check()
        self.query_one("#duration", Input).focus()

    def _texts(self) -> tuple[str, list[str], str]:
        duration = self.query_one("#duration", Input).value
        matchers = [i.value for i in self.query(".matcher").results(Input)]
        return duration, matchers, self.query_one("#comment", Input).value

    def _check(self) -> SilenceRequest | None:
        """Validate every field, mark the bad ones, say what the silence would select."""
        duration, matchers, comment = self._texts()
        self.query_one("#duration", Input).set_class(
            not _valid(parse_duration, duration), "-invalid"
        )
        for box in self.query(".matcher").results(Input):
            box.set_class(
                bool(box.value.strip()) and not _valid(parse_matcher, box.value), "-invalid"
            )
        request, problems = build_request(duration, matchers, comment)
        shown = self.query_one("#problems", Static)
        shown.update("\n".join(problems))
        shown.set_class(not problems, "-empty")
        scope = self.query_one("#scope", Static)
        scope.set_class(request is None, "-empty")
        if request is None:
            scope.update("")
        else:
            hit = [a for a in self.alerts if all(m.matches(a.label_map) for m in request.matchers)]
            names = ", ".join(sorted({a.rule for a in hit}))
            scope.update(
                f"Selects {len(hit)} of {len(self.alerts)} active alerts"
                + (f": {names}" if names else "")
            )
        self.query_one("#send", Button).disabled = request is None
        return request

    @on(Input.Changed)
    def _changed(self) -> None:
        self._check()

    @on(Button.Pressed, ".preset")
    def _preset(self, event: Button.Pressed) -> None:
        self.query_one("#duration", Input).value = str(event.button.label)
        self._check()

    @on(Input.Submitted)
    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        request = self._check()
        if request is not None:
            self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without silencing anything."""
        self.dismiss(None)


def _valid(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True
