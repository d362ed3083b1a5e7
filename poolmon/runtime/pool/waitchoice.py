"""Which way a waiting caller sleeps, learnt from the round trips the pool itself measures.

Why: a caller waiting for the one busy worker can sleep in `poll` on its socket or blocked in
`recv` (callerio.wait_on_worker). The `recv` sleeper is also woken early, when the worker
reads the task, and whether that early wake-up helps depends on the machine and on where the
kernel puts the two ends: on a VM whose idle CPUs halt at once it cut the round trip across
CPUs from 73-94 to 46-49 µs; with the kernel's guest halt polling on, it helped pinned apart
and, left to the scheduler, sometimes pulled the caller onto the worker's CPU (25 or 35 µs
against 27; docs/BENCHMARKS.md "Round trip: how the caller sleeps"). No setting read from
the system predicts that reliably, so the pool measures both and uses the one whose median
round trip is lower, trying the other one wait in `EXPLORE_EVERY` so that a change (a new
placement, load) is noticed. Medians, not means: a wait's tail is mostly other work on the
machine, whichever way it slept, and the median is what the benchmarks hold the pool to.

Pure bookkeeping, no IO: the caller holding the IO lock asks `pick` and reports `note`.
"""

from __future__ import annotations

from typing import Final, Literal

Way = Literal["poll", "recv"]

EXPLORE_EVERY: Final = 32
"""One wait in this many uses the way that is not the faster one now."""
STEP: Final = 1 / 64
"""How far one round trip moves a way's running median, as a share of it: up if it took
longer, down if shorter (a stochastic median: no sample moves it more, however long)."""


class WaitChoice:
    """The running median round trip of each way, and the choice they make."""

    def __init__(self) -> None:
        self.median_ns: dict[Way, float] = {"poll": -1.0, "recv": -1.0}
        """Running median of the round trip (send to result) per way; negative until measured."""
        self.waits = 0
        """Waits picked so far."""

    def pick(self) -> Way:
        """The way for the next wait.

        Each in turn until both are measured, then the faster, except every
        `EXPLORE_EVERY`-th wait, which tries the other.
        """
        self.waits += 1
        poll, recv = self.median_ns["poll"], self.median_ns["recv"]
        if poll < 0:
            return "poll"
        if recv < 0:
            return "recv"
        faster: Way = "recv" if recv <= poll else "poll"
        if self.waits % EXPLORE_EVERY == 0:
            return "poll" if faster == "recv" else "recv"
        return faster

    def note(self, way: Way, round_trip_ns: int) -> None:
        """A wait of `way` ended with the answer, `round_trip_ns` after the task was sent."""
        median = self.median_ns[way]
        if median < 0:
            self.median_ns[way] = float(round_trip_ns)
        elif round_trip_ns > median:
            self.median_ns[way] = median * (1 + STEP)
        elif round_trip_ns < median:
            self.median_ns[way] = median * (1 - STEP)
