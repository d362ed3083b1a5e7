"""The app's side of the failure and operation drill-downs: open them, feed them.

Why a mixin of the app: screens never read the source; the app opens the screens and puts
what they show in each `Frame`. An operation's drill-down needs more than a snapshot (its
own series, histogram and error types), read from the aggregator in one look under the
source's lock (`read`, which `Monitor` and `FeedSource` have); a source without `read`
shows the drill-down with the snapshot's row only, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from textual.app import App

from poolmon.core.failures import TaskFailure
from poolmon.core.op_detail import OperationDetail, operation_detail
from poolmon.core.snapshot import PoolSnapshot
from poolmon.runtime.source import SnapshotSource
from poolmon.screens.failure_detail import FailureDetailScreen
from poolmon.screens.failures import FailuresScreen
from poolmon.screens.operation_detail import OperationDetailScreen

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

T = TypeVar("T")


@runtime_checkable
class AggregatorReader(Protocol):
    """A source that runs a function on its aggregator under its lock (`Monitor.read`)."""

    def read(self, fn: Callable[[Aggregator], T]) -> T:
        """Run `fn` on the aggregator and return its result."""
        ...


class DrillsMixin(App[None]):
    """Failures list, failure details and operation drill-down for `PoolmonApp`."""

    source: SnapshotSource
    window_s: int
    paused: bool

    def refresh_frame(self) -> None:
        """Pull a snapshot and redraw (`PoolmonApp.refresh_frame`)."""
        raise NotImplementedError("PoolmonApp provides refresh_frame")

    def action_failures(self) -> None:
        """Open the recent failures list (all operations)."""
        self.open_failures(None)

    def open_failures(self, op: str | None) -> None:
        """Open the recent failures list, of one operation or of all."""
        screen = self.screen
        if not (isinstance(screen, FailuresScreen) and screen.op == op):
            self.push_screen(FailuresScreen(op))
        self.refresh_frame()

    def open_failure(self, failure: TaskFailure) -> None:
        """Open one failure's details and traceback."""
        self.push_screen(FailureDetailScreen(failure))
        self.refresh_frame()

    def open_failed_task(self, task_id: int, snapshot: PoolSnapshot) -> None:
        """Open a failed task's details, or say why there are none (timeouts, old ones)."""
        failure = next((f for f in snapshot.failures if f.task_id == task_id), None)
        if failure is not None:
            self.open_failure(failure)
            return
        self.notify(
            f"No traceback for task {task_id}: a timeout or a lost worker raises nothing in the "
            "worker, and only the last 100 exceptions are kept.",
            title="No exception details",
            severity="warning",
        )

    def open_operation(self, op: str) -> None:
        """Open an operation's drill-down."""
        self.push_screen(OperationDetailScreen(op))
        self.refresh_frame()

    def operation_for(self, screen: object, snapshot: PoolSnapshot) -> OperationDetail | None:
        """The operation detail for `screen` (None unless it is an operation drill-down).

        Paused, the detail shown stays (like a worker's drill-down). A source without `read`
        gives the snapshot's row and histogram only.
        """
        if not isinstance(screen, OperationDetailScreen):
            return None
        shown = screen.frame.operation if screen.frame is not None else None
        if self.paused and shown is not None:
            return shown
        source = self.source
        op, window = screen.op, self.window_s
        if isinstance(source, AggregatorReader):
            return source.read(lambda agg: operation_detail(agg, op, window))
        row = next((o for o in snapshot.operations if o.name == op), None)
        histogram = row.histogram if row is not None else OperationDetail(op).histogram
        return OperationDetail(op, window, snapshot.taken_at_ns, row, histogram=histogram)
