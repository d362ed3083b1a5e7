"""`FeedMonitor`: a `FeedSource` that a `Fleet` can hold, for pictures and tests without sockets.

The pools overview and the self-monitoring view read more than a snapshot: a fleet reads each
pool's aggregator under its monitor's lock (`read`) and its `IntakeMeter`. `FeedMonitor` adds
both to the hand-fed `FeedSource` (the real aggregator under a `ManualClock`; what is fed is
counted by the meter as the BATCH frames a live monitor would have received), so snapshot
tests draw those screens from generated data at a frozen time, never from a live socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from poolmon.core.aggregator import Aggregator
from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import Batch
from poolmon.runtime.intake import IntakeMeter
from poolmon.testing.clock import ManualClock
from poolmon.testing.feed_source import FeedSource

T = TypeVar("T")


class FeedMonitor(FeedSource):
    """A `FeedSource` with an `IntakeMeter` and `read` (see the module doc).

    Args:
        clock: The frozen clock shared with the aggregator and the meter.
        read_only: Report a read-only connection.
    """

    def __init__(self, clock: ManualClock, *, read_only: bool = False) -> None:
        self.aggregator = Aggregator(clock)
        """The engine (also `engine`)."""
        super().__init__(clock, self.aggregator, read_only=read_only)
        self.intake = IntakeMeter(clock)
        """What a live monitor would have counted of what was fed."""
        self._seq = 1

    def feed(
        self, events: list[Event] | tuple[Event, ...] = (), batch: TaskBatch | None = None
    ) -> None:
        """Ingest as `FeedSource` does, and count it as one BATCH frame the meter received."""
        super().feed(events, batch)
        records = [(self._seq + i, e) for i, e in enumerate(events)]
        tasks = [] if batch is None or not len(batch) else [(self._seq + len(records), batch)]
        end = self._seq + len(records) + len(tasks)
        self.intake.note(Batch(self._seq, end, tuple(records), tuple(tasks)))
        self._seq = end

    def read(self, fn: Callable[[Aggregator], T]) -> T:
        """Run `fn` on the aggregator (no lock: everything here runs on one thread)."""
        return fn(self.aggregator)
