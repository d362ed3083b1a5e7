"""Busy/ready flips of a worker gathered into one event while they come fast.

Why: a caller waiting for each task in turn flips its worker ready -> busy -> ready once per
task, tens of thousands of times a second. Sent one by one, as `poolmon.worker.state` events,
those flips were most of what the monitor endpoint cost such a caller: with the endpoint on
(the default) a round trip took 67 µs on average instead of 26, and without the flips 40-50
(docs/BENCHMARKS.md "Round trip with the monitor endpoint on"). Nothing needs them one by
one: the aggregator already collapses consecutive flips into one history entry with their
count, and a monitor redraws a few times a second.

So a flip that comes `HOLD_NS` or more after the worker's last emitted one is emitted at
once, as before (a worker that changes state now and then is seen at once); a faster one is
held, and the flips held for a worker leave as one event, the latest flip's, with `flips`
saying how many it stands for and `ts_ns` when the latest happened. Held flips leave at the
pool's next supervisor tick (every 20 ms) or before any other event the pool emits, so no
event about a worker (its exit, a health check) can overtake its state. The count is exact:
every flip is in exactly one event.

Pure bookkeeping: `PoolEmitter` asks `fold`, then `offer`, and emits what `take` returns.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Final

from poolmon.core.catalog import STATE_FLIP_DELAY_NS

HOLD_NS: Final = STATE_FLIP_DELAY_NS
"""A worker's flips closer than this to its last emitted one are gathered (monotonic ns)."""


@dataclass(slots=True)
class HeldFlip:
    """The latest of a worker's held flips, and how many flips it stands for."""

    old: str
    new: str
    reason: str
    prev_ns: int
    op: str | None
    wall_ns: int
    """Wall-clock time of the latest flip (the event's `ts_ns`)."""
    flips: int
    meta: dict[str, object]
    """The worker's identity fields (pool, worker_id, pid), taken when its first flip was
    held (they never change: a worker id is never reused)."""


class FlipGate:
    """Decides which flips go out at once and keeps the rest, per worker (any thread)."""

    def __init__(self, hold_ns: int = HOLD_NS) -> None:
        self.hold_ns = hold_ns
        self._last_sent: dict[int, int] = {}
        self._held: dict[int, HeldFlip] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._held)

    def offer(self, wid: int, now_ns: int, flip: HeldFlip) -> bool:
        """True: emit `flip` now. False: it was added to the worker's held flips."""
        with self._lock:
            held = self._held.get(wid)
            if held is None:
                last = self._last_sent.get(wid)
                if last is None or now_ns - last >= self.hold_ns:
                    self._last_sent[wid] = now_ns
                    return True
                self._held[wid] = flip
                return False
            flip.flips += held.flips
            self._held[wid] = flip
            return False

    def fold(
        self, wid: int, old: str, new: str, reason: str, prev_ns: int, op: str | None, wall_ns: int
    ) -> bool:
        """True: the worker already had flips held, and this one joined them in place.

        The common case of a fast-flipping worker, without building a `HeldFlip` (and its
        identity fields) per flip; False: `offer` it.
        """
        with self._lock:
            held = self._held.get(wid)
            if held is None:
                return False
            held.old, held.new, held.reason, held.prev_ns = old, new, reason, prev_ns
            held.op, held.wall_ns = op, wall_ns
            held.flips += 1
            return True

    def take(self, now_ns: int) -> list[HeldFlip]:
        """Every held flip, emptied; each worker's clock restarts at `now_ns`."""
        with self._lock:
            if not self._held:
                return []
            out = list(self._held.values())
            for wid in self._held:
                self._last_sent[wid] = now_ns
            self._held = {}
            return out

    def forget(self, wid: int) -> None:
        """A worker is gone for good: drop its clock (its held flips leave with `take`)."""
        with self._lock:
            self._last_sent.pop(wid, None)
