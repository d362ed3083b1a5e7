"""`FeedMonitor`: a `FeedSource` that a `Fleet` can hold, for pictures and tests without sockets.

The pools overview and the self-monitoring view read more than a snapshot: a fleet reads each
pool's aggregator under its monitor's lock (`read`) and its `IntakeMeter`. `FeedMonitor` adds
both to the hand-fed `FeedSource` (the real aggregator under a `ManualClock`), so snapshot
tests draw those screens from generated data at a frozen time, never from a live socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from poolmon.core.aggregator import Aggregator
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
        """What a live monitor would have counted; tests feed it frames by hand."""

    def read(self, fn: Callable[[Aggregator], T]) -> T:
        """Run `fn` on the aggregator (no lock: everything here runs on one thread)."""
        return fn(self.aggregator)
