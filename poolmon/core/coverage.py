"""Which seconds the aggregator actually has data for, so that gaps show as gaps, not zeros.

A second with no finished task is a real zero only if the monitor was listening then. The pool
sends `poolmon.pool.status` about once a second even when idle, so the rule is: every ingest
marks its second as covered, and the seconds between two ingests are covered too when the
silence between them is at most `max_silence_s` (default 5 s) and no gap was marked in
between. A longer silence, or an explicit `mark_gap` (connection dropped, events lost), leaves
the seconds uncovered; queries turn uncovered seconds into `None`. Backfilled history
(rollups) covers the seconds it describes, so a gap that the pool's history can fill is filled.

Kept as a short sorted list of closed integer intervals `[first_s, last_s]`, pruned to the
longest window, so memory is bounded however long the monitor runs.
"""

from __future__ import annotations

from bisect import bisect_right


class Coverage:
    """Sorted, merged intervals of covered seconds, plus the marked gaps (see module doc)."""

    __slots__ = (
        "_barrier_s", "_covered_s", "_iv", "_last_s", "gaps", "max_intervals", "max_silence_s",
    )  # fmt: skip

    def __init__(self, max_silence_s: int = 5, max_intervals: int = 512) -> None:
        self.max_silence_s = max_silence_s
        self.max_intervals = max_intervals
        self._iv: list[list[int]] = []
        self._last_s: int | None = None
        self._barrier_s: int | None = None
        self._covered_s: int | None = None  # the last second noted, while nothing uncovered it
        self.gaps: list[tuple[int, int]] = []
        """Marked gaps as `(start_ns, end_ns)`, oldest first."""

    def note(self, second: int) -> None:
        """Something arrived for `second`: cover it, and the silence before it if short."""
        if second == self._covered_s:  # the common case: many events within one second
            return
        last = self._last_s
        if (
            last is not None
            and last < second <= last + self.max_silence_s
            and (self._barrier_s is None or self._barrier_s <= last)
        ):
            self._add(last, second)
        else:
            self._add(second, second)
        if last is None or second > last:
            self._last_s = second
        if self._barrier_s is not None and second >= self._barrier_s:
            self._barrier_s = None
        self._covered_s = second if second == self._last_s and self._barrier_s is None else None

    def cover(self, first_s: int, last_s: int) -> None:
        """Cover a whole range (a backfilled second), without touching continuity."""
        self._add(first_s, last_s)

    def mark_gap(self, start_ns: int, end_ns: int) -> None:
        """Record a gap; seconds strictly inside it stop being covered, none is filled later."""
        if end_ns < start_ns:
            raise ValueError(f"gap ends ({end_ns}) before it starts ({start_ns})")
        self.gaps.append((start_ns, end_ns))
        self._covered_s = None
        first = start_ns // 1_000_000_000 + 1
        last = end_ns // 1_000_000_000 - 1
        if first <= last:
            self._remove(first, last)
        self._barrier_s = max(self._barrier_s or end_ns // 1_000_000_000, end_ns // 1_000_000_000)

    def covered_count(self, first_s: int, last_s: int) -> int:
        """How many seconds in `[first_s, last_s]` are covered."""
        total = 0
        for a, b in self._iv:
            lo, hi = max(a, first_s), min(b, last_s)
            if lo <= hi:
                total += hi - lo + 1
        return total

    def is_covered(self, second: int) -> bool:
        """Whether one second is covered."""
        i = bisect_right(self._iv, [second, 2**62]) - 1
        return i >= 0 and self._iv[i][0] <= second <= self._iv[i][1]

    def prune(self, before_s: int) -> None:
        """Drop coverage and gaps older than `before_s` (outside every window)."""
        self._covered_s = None
        self._iv = [[max(a, before_s), b] for a, b in self._iv if b >= before_s]
        cutoff = before_s * 1_000_000_000
        self.gaps = [g for g in self.gaps if g[1] >= cutoff]

    def drop_after(self, second: int) -> None:
        """Forget coverage after `second` (the clock went backwards past it)."""
        self._covered_s = None
        self._iv = [[a, min(b, second)] for a, b in self._iv if a <= second]
        if self._last_s is not None and self._last_s > second:
            self._last_s = second

    @property
    def intervals(self) -> tuple[tuple[int, int], ...]:
        """The covered intervals, for tests and documentation."""
        return tuple((a, b) for a, b in self._iv)

    def _add(self, first: int, last: int) -> None:
        iv = self._iv
        i = bisect_right(iv, [first, 2**62])
        # merge with the previous interval when touching
        if i > 0 and iv[i - 1][1] >= first - 1:
            i -= 1
            iv[i][1] = max(iv[i][1], last)
        else:
            iv.insert(i, [first, last])
        # swallow following intervals that now touch
        cur = iv[i]
        j = i + 1
        while j < len(iv) and iv[j][0] <= cur[1] + 1:
            cur[1] = max(cur[1], iv[j][1])
            j += 1
        del iv[i + 1 : j]
        if len(iv) > self.max_intervals:
            del iv[0]
            self._covered_s = None

    def _remove(self, first: int, last: int) -> None:
        out: list[list[int]] = []
        for a, b in self._iv:
            if b < first or a > last:
                out.append([a, b])
                continue
            if a < first:
                out.append([a, first - 1])
            if b > last:
                out.append([last + 1, b])
        self._iv = out
