"""The history's raw task rows, in one mapped block of memory used as a ring.

Why (issue 17): the history holds up to 16 MiB of raw rows for resume and backfill, as the
task batches the pool's IO thread built, a few thousand of them at 20,000 tasks/s, eight
`array('q')` buffers of ~800 bytes each, every one allocated in the IO thread's malloc arena
and freed ~13 s later by the endpoint thread. Long-lived blocks of many sizes among the
arena's short-lived ones (frames, result buffers) leave holes that glibc can neither reuse
for everything nor give back (`malloc_trim` returns only whole free pages): the pool's free
heap crept up ~1.6 MiB an hour after warm-up. Copied here, the held rows cost one anonymous
`mmap` of their own, outside every arena, and the batches the IO thread built are freed as
soon as the endpoint has sent them. Copies in and out are memoryview slice assignments and
`array.frombytes` (a memcpy each, no numpy call: this runs for every batch the pool makes).

The ring keeps batches first in, first out, each batch's rows contiguous: a batch that does
not fit before the end starts again at row 0, leaving the end unused until the ring wraps
past it. It never evicts by itself: `put` copies a batch in or says it does not fit now, and
the history decides what to drop (it may only drop rows already rolled up).
The block is allocated when a batch finds no room, at least `FIRST_ROWS` rows, twice the last
block, and the rows the history's bound lets it hold for batches of the held mean size (a
light load's batches of a row or two hold a fraction of the bound's rows, since the bound also
counts 1 KiB a batch; a busy pool's thousands of rows a batch need the whole bound at once);
a pool that runs no tasks allocates nothing. Growing copies the held rows to the front of the
new block and updates their `RingRows` in place.
"""

from __future__ import annotations

import mmap
from array import array
from collections import deque

from poolmon.core.events import TASK_COLUMNS, TaskBatch

_COLUMNS = len(TASK_COLUMNS)
_MAP_FLAGS = mmap.MAP_PRIVATE | getattr(mmap, "MAP_POPULATE", 0)
"""Private (`mmap(-1, ...)` adds anonymous; its default, shared, would be shmem) and populated
at once where Linux offers it: one call makes the block resident, as the ring's cycling would
within seconds anyway, instead of a fault per 4 KiB page as rows first land there (a pool's
first laps through its blocks cost 36 ms that way, 18 ms populated)."""
FIRST_ROWS = 4096
"""Rows of the smallest block (256 KiB)."""
AIM_AFTER_BATCHES = 8
"""Batches held before a growth aims at the bound's rows for their mean size: one batch says
little (a single 3,000-row burst would otherwise map the whole 16 MiB for an idle pool)."""


class RingRows:
    """Where one held batch's rows are in the ring (`start` moves when the ring grows)."""

    __slots__ = ("rows", "start")

    def __init__(self, start: int, rows: int) -> None:
        self.start = start
        """The first row."""
        self.rows = rows
        """How many rows."""


class RowRing:
    """Task rows in one mapped block (column after column, int64), batches first in, first out.

    Args:
        capacity_rows: The most rows the block may grow to (the history's raw byte bound / 64
            bytes a row).
        overhead_rows: What the history's bound counts for each batch beside its rows, in
            rows (its 1 KiB a batch is 16). With it a growth aims at once at the rows the
            bound will let the history hold for batches of the held mean size, instead of
            doubling through every size on the way (each step a new block to populate and
            the held rows to copy: ~100 ns a task over a fast pool's first 16 MiB).
    """

    def __init__(self, capacity_rows: int, overhead_rows: int = 0) -> None:
        if capacity_rows < 0:
            raise ValueError(f"capacity_rows must be >= 0, got {capacity_rows}")
        if overhead_rows < 0:
            raise ValueError(f"overhead_rows must be >= 0, got {overhead_rows}")
        self.capacity_rows = capacity_rows
        """The most rows the block may hold."""
        self.overhead_rows = overhead_rows
        """Rows' worth the bound counts for each batch beside its rows."""
        self._block: mmap.mmap | None = None
        self._cols: list[memoryview] = []
        """One int64 view per column over the block."""
        self._size = 0
        """Rows per column in the block (0 before the first batch)."""
        self._regions: deque[RingRows] = deque()
        """Every held batch's rows, oldest first."""
        self._rows = 0
        """Rows held (the sum over `_regions`, kept as they change)."""

    def __len__(self) -> int:
        """Batches held."""
        return len(self._regions)

    @property
    def rows(self) -> int:
        """Rows held."""
        return self._rows

    @property
    def block_rows(self) -> int:
        """Rows of the block allocated so far (0 before the first batch)."""
        return self._size

    @property
    def allocated_bytes(self) -> int:
        """Bytes of the block allocated so far."""
        return self._size * 8 * _COLUMNS

    def _place(self, rows: int, size: int) -> int | None:
        """The first row a batch of `rows` rows would take in a block of `size` rows, or None."""
        regions = self._regions
        if not regions:
            return 0 if rows <= size else None
        head = regions[0].start
        last = regions[-1]
        tail = last.start + last.rows
        if tail > head:  # the held rows are [head, tail): free at the end, then before head
            if rows <= size - tail:
                return tail
            return 0 if rows <= head else None
        # wrapped: the held rows are [head, size) and [0, tail); free is [tail, head)
        return tail if rows <= head - tail else None

    def _grow(self, rows: int) -> bool:
        """Move the held rows to the front of a block with room for `rows` more; False if at cap."""
        size = self._size
        held = self._rows
        if size >= self.capacity_rows or held + rows > self.capacity_rows:
            return False
        want = max(FIRST_ROWS, 2 * size, held + rows)
        if len(self._regions) >= AIM_AFTER_BATCHES:
            mean = (held + rows) / (len(self._regions) + 1)
            steady = self.capacity_rows * mean / (mean + self.overhead_rows)
            # A tenth more than the steady rows: room for the end a wrap leaves unused.
            want = max(want, int(1.1 * steady))
        new_size = min(self.capacity_rows, want)
        block = mmap.mmap(-1, new_size * 8 * _COLUMNS, flags=_MAP_FLAGS)
        flat = memoryview(block).cast("q")
        cols = [flat[i * new_size : (i + 1) * new_size] for i in range(_COLUMNS)]
        # The held rows are at most two runs (before and after a wrap): copy each run at once,
        # eight slices, then renumber the regions (thousands of small batches at 16 MiB).
        runs: list[tuple[int, int]] = []
        at = 0
        for region in self._regions:
            if runs and runs[-1][1] == region.start:
                runs[-1] = (runs[-1][0], region.start + region.rows)
            else:
                runs.append((region.start, region.start + region.rows))
            region.start = at
            at += region.rows
        at = 0
        for start, end in runs:
            for new, old in zip(cols, self._cols, strict=True):
                new[at : at + end - start] = old[start:end]
            at += end - start
        self._release()
        self._block, self._cols, self._size = block, cols, new_size
        return True

    def _release(self) -> None:
        """Unmap the block (its views first: a mapping with views exported cannot close)."""
        for col in self._cols:
            col.release()
        self._cols = []
        if self._block is not None:
            self._block.close()
            self._block = None

    def put(self, batch: TaskBatch) -> RingRows | None:
        """Copy `batch`'s rows in; returns where they are, or None (nothing copied) if full.

        The block grows first if it is below its cap. An empty batch is refused (None): the
        ring tells full from empty by the rows its batches hold, and an empty batch costs
        nothing to keep as it is; so is one whose columns are not 8-byte integers.
        """
        n = len(batch.task_id)
        if n == 0:
            return None
        start = self._place(n, self._size)
        if start is None:
            if not self._grow(n):
                return None
            start = self._place(n, self._size)
            assert start is not None
        end = start + n
        for col, name in zip(self._cols, TASK_COLUMNS, strict=True):
            src = getattr(batch, name)
            try:
                col[start:end] = src
            except (TypeError, ValueError):  # not array('q'): 'l', numpy's int64, ...
                view = memoryview(src)
                if view.itemsize != 8 or view.ndim != 1 or len(view) != n:
                    return None  # nothing registered: the rows written so far are free space
                col[start:end] = view.cast("B").cast("q")
        region = RingRows(start, n)
        self._regions.append(region)
        self._rows += n
        return region

    def drop_oldest(self) -> None:
        """Forget the oldest batch's rows (their space is reused by later batches)."""
        self._rows -= self._regions.popleft().rows

    def batch(self, where: RingRows, ops: tuple[str, ...], errors: tuple[str, ...]) -> TaskBatch:
        """A new `TaskBatch` of the held rows `where`, copied out (the ring reuses them)."""
        start, end = where.start, where.start + where.rows
        if not self._cols or start < 0 or end > self._size:
            raise ValueError(f"rows {start}..{end} are not in the ring")
        cols = []
        for col in self._cols:
            out = array("q")
            out.frombytes(col[start:end].cast("B"))
            cols.append(out)
        return TaskBatch.trusted(ops, errors, *cols)
