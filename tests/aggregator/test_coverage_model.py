"""Coverage against a model of its documented rule, one second at a time.

`Coverage` keeps merged intervals and skips the work for a second it has just covered (most
events of a busy pool fall in the same second as the one before). The model keeps a plain
set of seconds and applies the rule of `poolmon.core.coverage` literally, so any operation
sequence - notes late and early, gaps, prunes, a clock going back, backfilled ranges - must
leave both covering the same seconds.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from poolmon.core.coverage import Coverage

NS = 1_000_000_000
SILENCE = 5


class Model:
    """The rule, spelled out over a set of seconds."""

    def __init__(self) -> None:
        self.seconds: set[int] = set()
        self.last: int | None = None
        self.barrier: int | None = None

    def note(self, s: int) -> None:
        last = self.last
        if (
            last is not None
            and last < s <= last + SILENCE
            and (self.barrier is None or self.barrier <= last)
        ):
            self.seconds.update(range(last, s + 1))
        else:
            self.seconds.add(s)
        if last is None or s > last:
            self.last = s
        if self.barrier is not None and s >= self.barrier:
            self.barrier = None

    def mark_gap(self, start_ns: int, end_ns: int) -> None:
        self.seconds -= set(range(start_ns // NS + 1, end_ns // NS))
        end = end_ns // NS
        self.barrier = max(self.barrier if self.barrier is not None else end, end)

    def prune(self, before: int) -> None:
        self.seconds = {s for s in self.seconds if s >= before}

    def drop_after(self, second: int) -> None:
        self.seconds = {s for s in self.seconds if s <= second}
        if self.last is not None and self.last > second:
            self.last = second

    def cover(self, first: int, last: int) -> None:
        self.seconds.update(range(first, last + 1))


operations = st.lists(
    st.one_of(
        st.tuples(st.just("note"), st.integers(0, 60)),
        st.tuples(st.just("note"), st.integers(0, 60)),  # notes are most of a real stream
        st.tuples(st.just("gap"), st.integers(0, 60 * NS), st.integers(0, 8 * NS)),
        st.tuples(st.just("prune"), st.integers(0, 60)),
        st.tuples(st.just("drop_after"), st.integers(0, 60)),
        st.tuples(st.just("cover"), st.integers(0, 60), st.integers(0, 4)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(ops=operations)
def test_coverage_covers_what_the_rule_says(ops: list[tuple[object, ...]]) -> None:
    coverage, model = Coverage(max_silence_s=SILENCE, max_intervals=10_000), Model()
    for op in ops:
        name, *args = op
        if name == "note":
            (s,) = args
            coverage.note(int(s))  # type: ignore[call-overload]
            model.note(int(s))  # type: ignore[call-overload]
        elif name == "gap":
            start, length = (int(a) for a in args)  # type: ignore[call-overload]
            coverage.mark_gap(start, start + length)
            model.mark_gap(start, start + length)
        elif name == "prune":
            coverage.prune(int(args[0]))  # type: ignore[call-overload]
            model.prune(int(args[0]))  # type: ignore[call-overload]
        elif name == "drop_after":
            coverage.drop_after(int(args[0]))  # type: ignore[call-overload]
            model.drop_after(int(args[0]))  # type: ignore[call-overload]
        else:
            first, extra = (int(a) for a in args)  # type: ignore[call-overload]
            coverage.cover(first, first + extra)
            model.cover(first, first + extra)
        covered = {s for s in range(-1, 80) if coverage.is_covered(s)}
        assert covered == model.seconds, op
