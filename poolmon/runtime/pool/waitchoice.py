"""Which way a waiting caller sleeps, learnt from the round trips the pool itself measures.

Why: a caller waiting for the one busy worker can sleep in `poll` on its socket, blocked in
`recv`, or, for short tasks, spin a few microseconds on the worker's result ring before it
sleeps (callerio). A `recv` sleeper is also woken early, when the worker reads the task (the
kernel's write-space wake-up is not keyed by what the sleeper waits for), and a spinning caller
does not halt its CPU at all. Whether either helps depends on the machine and on where the
kernel puts the two ends: on a VM whose idle CPUs halt at once, a wake-up on a halted vCPU
costs 15-20 µs, and the early wake-up cut the round trip across CPUs from 73-94 to 46-49 µs and
the spin to ~40; with the kernel's guest halt polling on, the early wake-up helped pinned apart
and, left to the scheduler, sometimes pulled the caller onto the worker's CPU (25 or 35 µs
against 27; docs/BENCHMARKS.md "Round trip: how the caller sleeps"). No setting read from the
system predicts that reliably, so the pool measures the ways and uses the one whose median
round trip is lower, trying another one wait in `EXPLORE_EVERY` so that a change (a new
placement, load) is noticed. Medians, not means: a wait's tail is mostly other work on the
machine, whichever way it slept, and the median is what the benchmarks hold the pool to.

Pure bookkeeping, no IO: the caller holding the IO lock asks `pick` and reports `note`.
"""

from __future__ import annotations

from typing import Final, Literal

Way = Literal["poll", "recv", "spin"]

BLOCKING: Final[tuple[Way, ...]] = ("poll", "recv")
"""The ways that sleep in the kernel: all a caller has for a task too long to spin for."""
CALLER: Final[tuple[Way, ...]] = ("poll", "recv", "spin")
"""A waiting caller's ways: `spin` (then the faster blocking way) only for short tasks."""
EXPLORE_EVERY: Final = 32
"""One wait in this many uses a way that is not the fastest now (each other one in turn)."""
STEP: Final = 1 / 64
"""How far one round trip moves a way's running median, as a share of it: up if it took longer,
down if shorter (a stochastic median: no sample moves it more, however long)."""


class WaitChoice:
    """The running median round trip of each way, and the choice they make."""

    def __init__(self, ways: tuple[Way, ...] = BLOCKING) -> None:
        self.ways = ways
        """Every way this end can wait, in the order they are first tried."""
        self.median_ns: dict[Way, float] = dict.fromkeys(ways, -1.0)
        """Running median of the round trip (send to result) per way; negative until measured."""
        self.waits = 0
        """Waits picked so far."""

    def fastest(self, ways: tuple[Way, ...] | None = None) -> Way:
        """The measured way of `ways` (default: all) with the lowest median; else the first."""
        median = self.median_ns
        best: Way | None = None
        best_ns = 0.0
        for way in self.ways if ways is None else ways:
            ns = median[way]
            if ns >= 0 and (best is None or ns < best_ns):
                best, best_ns = way, ns
        if best is None:
            return (self.ways if ways is None else ways)[0]
        return best

    def pick(self, ways: tuple[Way, ...] | None = None) -> Way:
        """The way for the next wait, among `ways` (default: all; those possible this time).

        Each in turn until all are measured, then the fastest, except every
        `EXPLORE_EVERY`-th wait, which tries one of the others (each in turn).
        """
        self.waits += 1
        possible = self.ways if ways is None else ways
        median = self.median_ns
        for way in possible:
            if median[way] < 0:
                return way
        best = self.fastest(possible)
        if self.waits % EXPLORE_EVERY == 0 and len(possible) > 1:
            others = [way for way in possible if way != best]
            return others[(self.waits // EXPLORE_EVERY) % len(others)]
        return best

    def note(self, way: Way, round_trip_ns: int) -> None:
        """A wait of `way` ended with the answer, `round_trip_ns` after the task was sent."""
        median = self.median_ns[way]
        if median < 0:
            self.median_ns[way] = float(round_trip_ns)
        elif round_trip_ns > median:
            self.median_ns[way] = median * (1 + STEP)
        elif round_trip_ns < median:
            self.median_ns[way] = median * (1 - STEP)
