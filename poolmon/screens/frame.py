"""`Frame`: everything one screen refresh shows, handed down by the app on its timer.

Screens never pull data: the app builds one immutable `Frame` per tick (the snapshot plus the
connection state and the app's modes) and gives it to the active screen. That keeps screens
free of sockets and threads, and makes any screen renderable from a hand-built frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from poolmon.core.fleet_summary import PoolRow
from poolmon.core.op_detail import OperationDetail
from poolmon.core.self_figures import SelfFigures
from poolmon.core.snapshot import PoolSnapshot, WorkerView
from poolmon.core.tuning import SettingSpec

if TYPE_CHECKING:  # the advisor is imported when its screen opens (poolmon/app/lazy.py)
    from poolmon.core.advisor.model import Finding


@dataclass(frozen=True, slots=True)
class Frame:
    """One refresh's worth of data and modes.

    Attributes:
        snapshot: The aggregator's snapshot (the last one taken before a pause, when paused).
        state: Connection state: connecting, live, stale or disconnected.
        detail: Words about the connection (error, next retry), empty when all is well.
        severity: How alarming `detail` is: info, warning or error.
        dropped: Events lost in transport since attaching.
        window_s: The chosen window.
        paused: Whether the display is frozen.
        read_only: Whether tuning commands are disabled.
        worker: The drill-down's worker, when a drill-down screen is open.
        message: The latest command result or hint, for the status line.
        findings: The advisor's findings, most urgent first (computed about once a second
            while an advisor screen is open).
        advice_note: Why there are no findings, when there are none.
        settings: The pool's run-time settings as last fetched (tuning screen).
        settings_status: Where those settings stand: loading, as of when, or why not.
        undo_hint: What `z` would undo (empty: nothing to undo).
        operation: The drill-down's operation, when an operation drill-down is open.
        pools: Every watched pool's row (the pools overview; empty with a single pool).
        pool_label: With several pools: the selected pool's name and place (`etl 2/5`), or
            what the pools overview says of them all; empty with a single pool.
        behind: How far behind the app is (`3.2s`, `120 lost`), empty when it keeps up.
        self_figures: The app's own figures (the self-monitoring view only).
    """

    snapshot: PoolSnapshot = field(default_factory=PoolSnapshot)
    state: str = "connecting"
    detail: str = ""
    severity: str = "info"
    dropped: int = 0
    window_s: int = 60
    paused: bool = False
    read_only: bool = False
    worker: WorkerView | None = None
    message: str = ""
    findings: tuple[Finding, ...] = ()
    advice_note: str = ""
    settings: tuple[SettingSpec, ...] = ()
    settings_status: str = ""
    undo_hint: str = ""
    operation: OperationDetail | None = None
    pools: tuple[PoolRow, ...] = ()
    pool_label: str = ""
    behind: str = ""
    self_figures: SelfFigures | None = None
