"""`FeedSource`: a `SnapshotSource` without a socket, fed by hand or from a `StreamGenerator`.

It ingests events into the real aggregator under a `ManualClock` and implements the same
interface as the live `poolmon.runtime.monitor.Monitor`, so the app can be driven in tests and
benchmarks exactly as it is in production, minus the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from poolmon.core.events import Event, TaskBatch
from poolmon.core.snapshot import PoolInfo, PoolSnapshot, WorkerView
from poolmon.runtime.source import CommandResult, ConnectionState, SourceStatus
from poolmon.testing.clock import ManualClock
from poolmon.testing.stream_generator import StreamGenerator

if TYPE_CHECKING:
    from poolmon.core.aggregator import Aggregator

T = TypeVar("T")


class Engine(Protocol):
    """The aggregator methods a `FeedSource` drives (`poolmon.core.aggregator.Aggregator`)."""

    def ingest_event(self, event: Event) -> None:
        """Take one event."""
        ...

    def ingest_tasks(self, batch: TaskBatch) -> None:
        """Take a batch of finished tasks."""
        ...

    def set_pool_info(self, info: PoolInfo) -> None:
        """Record the pool's identity."""
        ...

    def note_link_down(self, last_data_ns: int) -> None:
        """The connection dropped: freeze at the last data."""
        ...

    def mark_gap(self, start_ns: int, end_ns: int) -> None:
        """Record a stretch without data."""
        ...

    def snapshot(self, window_s: int = 60) -> PoolSnapshot:
        """Build a snapshot."""
        ...

    def worker(self, worker_id: int, window_s: int = 60) -> WorkerView | None:
        """One worker's detail."""
        ...


Responder = Callable[[str, Mapping[str, Any]], CommandResult]
"""Answers a command sent to a `FeedSource` (a test decides what the 'pool' says)."""


def _no_pool(name: str, args: Mapping[str, Any]) -> CommandResult:
    return CommandResult(False, reason="no pool behind this feed")


class FeedSource:
    """A `SnapshotSource` fed by hand (or from a `StreamGenerator`) under a `ManualClock`.

    Args:
        clock: The frozen clock shared with the engine; `play()` advances it.
        engine: The aggregator; by default a real `Aggregator(clock)`.
        read_only: Report a read-only connection.
        responder: Answers commands; by default every command is refused.
    """

    def __init__(
        self,
        clock: ManualClock,
        engine: Engine | None = None,
        *,
        read_only: bool = False,
        responder: Responder = _no_pool,
    ) -> None:
        if engine is None:
            from poolmon.core.aggregator import Aggregator

            engine = Aggregator(clock)
        self.clock = clock
        self.engine = engine
        self._status = SourceStatus(state="connecting", read_only=read_only)
        self._responder = responder
        self.commands: list[tuple[str, dict[str, Any]]] = []
        """Every command sent, in order (for assertions)."""
        self.started = False
        """Whether `start()` was called (and `stop()` not yet)."""
        self._generator: StreamGenerator | None = None

    # -- feeding -----------------------------------------------------------------------------

    def attach(self, info: PoolInfo) -> None:
        """Behave as if a handshake just completed: the pool is known, the state is live."""
        self.engine.set_pool_info(info)
        self.set_status("live")

    def feed(
        self, events: list[Event] | tuple[Event, ...] = (), batch: TaskBatch | None = None
    ) -> None:
        """Ingest events and one task batch now."""
        for event in events:
            self.engine.ingest_event(event)
        if batch is not None and len(batch):
            self.engine.ingest_tasks(batch)

    def play(self, generator: StreamGenerator, seconds: int) -> None:
        """Advance the clock second by second, ingesting the generator's output for each."""
        self._generator = generator
        for end_ns, events, batch in generator.seconds(seconds):
            step = end_ns - self.clock.time_ns()
            if step > 0:
                self.clock.advance(step / 1e9)
            self.feed(events, batch)

    def play_more(self, seconds: int) -> None:
        """Continue the generator given to the last `play()` for `seconds` more."""
        if self._generator is None:
            raise RuntimeError("play_more() needs a generator: call play() first")
        self.play(self._generator, seconds)

    def disconnect(self, detail: str = "connection lost; reconnecting in 1.0s") -> None:
        """Enter the disconnected state as the monitor does: the data stays, frozen at now.

        Uptime and task ages stop and worker states read "unknown", as in the real app.
        """
        self.engine.note_link_down(self.clock.time_ns())
        self.set_status("disconnected", detail, "error")

    def set_status(
        self, state: ConnectionState, detail: str = "", severity: str = "info", dropped: int = 0
    ) -> None:
        """Set the status reported to the app."""
        self._status = SourceStatus(state, detail, severity, dropped, self._status.read_only)

    # -- SnapshotSource ----------------------------------------------------------------------

    def start(self) -> None:
        """Nothing to start: data arrives through `feed` and `play`."""
        self.started = True

    def stop(self) -> None:
        """Nothing to stop."""
        self.started = False

    def status(self) -> SourceStatus:
        """The status set last."""
        return self._status

    def snapshot(self, window_s: int) -> PoolSnapshot:
        """The engine's snapshot at the frozen clock's time."""
        return self.engine.snapshot(window_s)

    def worker(self, worker_id: int, window_s: int) -> WorkerView | None:
        """The engine's view of one worker."""
        return self.engine.worker(worker_id, window_s)

    def read(self, fn: Callable[[Aggregator], T]) -> T:
        """Run `fn` on the engine, as `Monitor.read` does (the engine must be an Aggregator)."""
        return fn(cast("Aggregator", self.engine))

    def command(self, name: str, args: Mapping[str, Any], timeout_s: float = 5.0) -> CommandResult:
        """Record the command and answer with the responder (refused when read-only)."""
        self.commands.append((name, dict(args)))
        if self._status.read_only:
            return CommandResult(False, reason="read-only connection")
        return self._responder(name, args)
