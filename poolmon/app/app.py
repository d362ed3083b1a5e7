"""`PoolmonApp`: the full-screen monitor, fed by any `SnapshotSource` on a timer.

The app owns the modes (window, paused, read-only) and the refresh timer. Each tick it pulls
one immutable snapshot from the source and hands a `Frame` to the active screen; the source
keeps ingesting in its own thread, so pausing freezes the screen, not the data, and resuming
shows the present at once. Commands (resize) leave through the source's control channel after
a confirmation, in a worker thread, and the status line shows what the pool reports.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from poolmon.app.advice import Advice
from poolmon.app.advisor_actions import AdvisorActions
from poolmon.app.announcer import FiringAnnouncer
from poolmon.app.commands import PoolCommandsMixin
from poolmon.app.crashes import CrashAnnouncer
from poolmon.app.drills import DrillsMixin
from poolmon.app.filling import FillingMixin
from poolmon.app.fleet import FLEET_ACTIONS, FleetMixin
from poolmon.app.lazy import ADVISOR, ALERTS, EVIDENCE, TUNING, is_alert_actions, is_open, is_tuning
from poolmon.app.lazy import screen as lazy_screen
from poolmon.app.recording import RecordingMixin
from poolmon.app.selfwatch import SelfWatchMixin
from poolmon.app.stacks import StacksMixin
from poolmon.app.tuning import TUNING_ACTIONS, TuningMixin
from poolmon.app.typeahead import TypeaheadMixin
from poolmon.core.snapshot import PoolSnapshot
from poolmon.runtime.source import SnapshotSource, SourceStatus
from poolmon.screens.base import PoolmonScreen
from poolmon.screens.frame import Frame
from poolmon.screens.help import HelpScreen
from poolmon.screens.operations import OperationsScreen
from poolmon.screens.overview import OverviewScreen
from poolmon.screens.worker_detail import WorkerDetailScreen
from poolmon.widgets.worker_table import WorkerTable

WINDOWS: dict[str, int] = {"1": 60, "5": 300, "f": 900, "h": 3600}
"""Window keys and their length in seconds."""

DEFAULT_REFRESH_HZ = 4.0
"""Snapshots pulled per second."""

MESSAGE_TTL_S = 15.0
"""Seconds a command result stays in the status line."""


class PoolmonApp(
    TypeaheadMixin,
    FleetMixin,
    SelfWatchMixin,
    PoolCommandsMixin,
    AdvisorActions,
    DrillsMixin,
    StacksMixin,
    TuningMixin,
    RecordingMixin,
    FillingMixin,
):
    """The poolmon terminal monitor.

    Args:
        source: Where snapshots come from (a `Monitor`, or a `FeedSource` in tests).
        window_s: Initial window (60, 300, 900 or 3600).
        refresh_hz: Snapshots pulled per second; 0 disables the timer (tests tick by hand).
        read_only: Refuse tuning commands (they are also refused by a read-only connection).
        title: The terminal title.
    """

    CSS_PATH = str(Path(__file__).with_name("poolmon.tcss"))

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "window('1')", "1m", show=False),
        Binding("5", "window('5')", "5m", show=False),
        Binding("f", "window('f')", "15m", show=False),
        Binding("h", "window('h')", "1h", show=False),
        Binding("p", "pause", "Pause"),
        Binding("space", "pause", "Pause", show=False),
        Binding("o", "operations", "Ops"),
        Binding("a", "alerts", "Alerts"),
        Binding("t", "tuning", "Tune"),
        Binding("v", "advisor", "Advise"),
        Binding("plus", "grow", "Grow", show=False),
        Binding("minus", "shrink", "Shrink", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]
    """
    | Key | Action |
    | :- | :- |
    | `1` `5` `f` `h` | Window of 1, 5, 15 or 60 minutes. |
    | `p`, `space` | Pause / resume the screen. |
    | `o` | Operations view. |
    | `a` | Alerts: active, history, silences (ack `k`, silence `S`, unsilence `u` there). |
    | `t` | Tuning: every run-time setting, edit, change log, undo. |
    | `v` | Advisor: findings, evidence, one-key fixes, auto-tuning log. |
    | `+` `-` | Grow / shrink the pool by one worker (with confirmation). |
    | `?` | Help. |
    | `q` | Quit. |
    """

    def __init__(
        self,
        source: SnapshotSource,
        *,
        window_s: int = 60,
        refresh_hz: float = DEFAULT_REFRESH_HZ,
        read_only: bool = False,
        title: str = "poolmon",
    ) -> None:
        super().__init__()
        self.source = source
        """The snapshot source."""
        self.window_s = window_s
        """The current window in seconds."""
        self.refresh_hz = refresh_hz
        """Snapshots per second pulled by the timer."""
        self.read_only = read_only
        """Whether tuning commands are disabled."""
        self.paused = False
        """Whether the screen is frozen."""
        self.message_ttl_s = MESSAGE_TTL_S
        """How long a status-line message stays."""
        self._message = ""
        self._message_at = 0.0
        self.title = title
        self.theme = "textual-dark"
        self._snapshot: PoolSnapshot | None = None
        self._status = SourceStatus()
        self._crashes = CrashAnnouncer()
        self._announcer = FiringAnnouncer()
        self._undo = []
        self.advice = Advice(source)
        """The advisor run on this app's snapshots (advisor screens only)."""

    @property
    def message(self) -> str:
        """The latest command result for the status line, until it is `message_ttl_s` old.

        A result stays true only for a while ("pool reports size 4" is wrong once the pool is
        resized again), so it expires instead of sitting in the status line forever.
        """
        if self._message and time.monotonic() - self._message_at > self.message_ttl_s:
            self._message = ""
        return self._message

    @message.setter
    def message(self, text: str) -> None:
        self._message = text
        self._message_at = time.monotonic()

    # -- lifecycle ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        """Start the source, show the overview and start the refresh timer."""
        self.source.start()
        self.push_screen(OverviewScreen())
        self.open_fleet()  # several pools: the pools overview first (poolmon/app/fleet.py)
        self.refresh_frame()
        if self.refresh_hz > 0:
            self.set_interval(1 / self.refresh_hz, self.refresh_frame)

    def on_unmount(self) -> None:
        """Stop the source's thread and close its connection."""
        self.source.stop()

    # -- the refresh -------------------------------------------------------------------------

    def refresh_frame(self) -> None:
        """Pull a snapshot (unless paused) and show it on the active screen."""
        status = self.source.status()
        if self.hold_for_history(status):  # no half-filled figures (app/filling.py)
            return
        started = self.frame_started()  # the frame's time, for the `m` view (app/selfwatch.py)
        self._status = status
        if not (self.paused or status.filling) or self._snapshot is None:
            self._snapshot = self.timed_snapshot(self.window_s)
            for text in self._crashes.new_messages(self._snapshot):
                self.notify(text, title="worker crashed", severity="error", timeout=10)
            self._announce()
        screen = self.screen
        if isinstance(screen, PoolmonScreen):
            screen.show_frame(self._frame_for(screen))
        self.frame_done(started)

    def _frame_for(self, screen: PoolmonScreen) -> Frame:
        status = self._status
        snapshot = self._snapshot or PoolSnapshot(window_s=self.window_s)
        worker = None
        if isinstance(screen, WorkerDetailScreen):
            if self.paused and screen.frame is not None:
                worker = screen.frame.worker
            else:
                worker = self.source.worker(screen.worker_id, self.window_s)
        if is_open(screen, ADVISOR) or is_open(screen, EVIDENCE):
            if self.settings:
                self.advice.settings = {s.key: s.value for s in self.settings}
            self.advice.update(snapshot)
        return Frame(
            snapshot=snapshot,
            state=status.state,
            detail=self.recording_detail(status.detail),
            severity=status.severity,
            dropped=status.dropped,
            window_s=self.window_s,
            paused=self.paused,
            read_only=self.read_only or status.read_only,
            worker=worker,
            message=self.message,
            findings=self.advice.findings,
            advice_note=self.advice.note,
            operation=self.operation_for(screen, snapshot),
            **self.tuning_fields(snapshot),
            **self.fleet_fields(screen),
            **self.self_fields(screen),
        )

    @on(PoolmonScreen.FrameWanted)
    def _frame_wanted(self) -> None:
        self.refresh_frame()

    # -- actions -----------------------------------------------------------------------------

    def action_window(self, key: str) -> None:
        """Switch the window (1, 5, 15 or 60 minutes) and redraw at once."""
        self.window_s = WINDOWS[key]
        was_paused, self.paused = self.paused, False
        self.refresh_frame()  # a new window needs a new snapshot even when paused
        self.paused = was_paused
        if was_paused:
            self.refresh_frame()

    def action_pause(self) -> None:
        """Freeze or unfreeze the screen; resuming shows the present immediately."""
        self.paused = not self.paused
        self.refresh_frame()

    def action_operations(self) -> None:
        """Open the operations view."""
        if not isinstance(self.screen, OperationsScreen):
            self.push_screen(OperationsScreen())
            self.refresh_frame()

    def action_alerts(self) -> None:
        """Open the alerts screen (or go back to it, when it is under the current screen)."""
        if any(is_open(s, ALERTS) for s in self.screen_stack):
            while not is_open(self.screen, ALERTS):
                self.pop_screen()
            return
        self.push_screen(lazy_screen(ALERTS))

    def action_tuning(self) -> None:
        """Open the tuning screen and ask the pool for its settings."""
        if not is_open(self.screen, TUNING):
            self.push_screen(lazy_screen(TUNING))
        self.fetch_settings()
        self.refresh_frame()

    def action_advisor(self) -> None:
        """Open the advisor (and ask the pool for its settings, which some findings use)."""
        if not is_open(self.screen, ADVISOR):
            self.push_screen(lazy_screen(ADVISOR))
            self.fetch_settings()
            self.refresh_frame()

    def action_help(self) -> None:
        """Open the help."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_grow(self) -> None:
        """Ask, then grow the pool by one worker."""
        self._confirm_resize(+1)

    def action_shrink(self) -> None:
        """Ask, then shrink the pool by one worker."""
        self._confirm_resize(-1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out tuning keys in read-only mode or before the pool size is known."""
        if action in FLEET_ACTIONS:
            return self.fleet_allows(action)
        if action in TUNING_ACTIONS and self.read_only_now():
            return None
        if action == "alerts":  # hidden where it leads nowhere new: 80 columns have no room
            return not is_alert_actions(self.screen)
        if action == "operations":  # likewise: on the operations view, o leads nowhere
            return not isinstance(self.screen, OperationsScreen)
        return True

    @on(WorkerTable.WorkerChosen)
    def _open_worker(self, event: WorkerTable.WorkerChosen) -> None:
        self.push_screen(WorkerDetailScreen(event.worker_id))
        self.refresh_frame()

    # -- command palette ---------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """List every poolmon command in the palette, next to Textual's own."""
        yield from super().get_system_commands(screen)
        for key, seconds in WINDOWS.items():
            minutes = seconds // 60
            yield SystemCommand(
                f"Window: {minutes} min" if minutes < 60 else "Window: 1 hour",
                f"Show the last {minutes} minutes (key {key})",
                lambda key=key: self.action_window(key),
            )
        yield SystemCommand(
            "Pause / resume", "Freeze the screen; data keeps arriving (p, space)", self.action_pause
        )
        yield SystemCommand(
            "Operations view", "Each operation's latency, slowest first (o)", self.action_operations
        )
        yield SystemCommand("Alerts", "Active alerts, history and silences (a)", self.action_alerts)
        yield SystemCommand(
            "Recent failures", "Failed tasks: exception and traceback (E)", self.action_failures
        )
        if is_alert_actions(screen) and not screen.read_only:
            yield SystemCommand(
                "Acknowledge alert", "Acknowledge the selected alert (k)", screen.action_ack
            )
            yield SystemCommand(
                "Silence alerts", "Silence alerts like the selected one (S)", screen.action_silence
            )
            yield SystemCommand(
                "Remove silence", "Remove the selected silence (u)", screen.action_unsilence
            )
        yield SystemCommand(
            "Tuning", "Every run-time setting: edit, change log, undo (t)", self.action_tuning
        )
        yield SystemCommand(
            "Advisor", "What to change and why; auto-tuning log (v)", self.action_advisor
        )
        if isinstance(screen, WorkerDetailScreen):
            yield SystemCommand(
                "Worker stack",
                "This worker's running task: live stack, age, args (x)",
                screen.action_stack,
            )
        if isinstance(screen, OverviewScreen):
            yield SystemCommand(
                "Sort workers", "Cycle the worker table's sort order (s)", screen.action_sort
            )
            yield SystemCommand(
                "Filter workers", "Filter by id, pid, state or task (/)", screen.action_filter
            )
            yield SystemCommand(
                "Clear filter", "Show every worker (escape)", screen.action_clear_filter
            )
        if is_tuning(screen) and not self.read_only_now():
            yield SystemCommand(
                "Edit setting", "Edit the highlighted setting (enter)", screen.action_edit
            )
            yield SystemCommand(
                "Undo last change", "Undo this app's last change (z)", screen.action_undo
            )
        if isinstance(screen, OperationsScreen) and not self.read_only_now():
            yield SystemCommand(
                "Set operation timeout",
                "Timeout for the highlighted operation, on the tuning screen (e)",
                screen.action_op_timeout,
            )
        if isinstance(screen, WorkerDetailScreen) and not self.read_only_now():
            yield SystemCommand(
                "Recycle worker", "Replace it after its current task (r)", screen.action_recycle
            )
            yield SystemCommand(
                "Kill worker", "Kill it now; its task fails (K)", screen.action_kill
            )
        if not self.read_only_now():
            yield SystemCommand(
                "Grow pool", "Add one worker, after confirmation (+)", self.action_grow
            )
            yield SystemCommand(
                "Shrink pool", "Remove one worker, after confirmation (-)", self.action_shrink
            )
        yield SystemCommand("Help", "Keys and connection states (?)", self.action_help)
