"""The pool's bounded memory of its own telemetry, replayed to monitors that attach late.

Three stores, each bounded, all owned by the endpoint's server thread (no locks):

* per-second task rollups (`poolmon.core.rollup`) for the last `rollup_seconds` seconds
  (16 minutes by default, so a 15-minute window is always full);
* the most recent raw records, numbered: task batches (bounded by bytes; their rows copied
  into one mapped block, `RowRing`, not held as the batches the IO thread built) and
  plain events (bounded by count), kept apart so a burst of tasks cannot push the last worker
  events out;
* the latest event of every (name, worker) pair, so a monitor attaching after an hour of quiet
  still learns every worker's state and the last resource samples. A worker's pairs (about 8)
  are forgotten `forget_exited_s` after its exit, as the app forgets its row: under one restart
  a minute they otherwise piled up toward the 4,096-pair cap for ~8 hours, events about workers
  long gone, each sent again in every backfill (issue 17).

Every record gets a sequence number when it enters history; the same number is its identity on
the wire, which is what lets a reconnecting monitor resume exactly where it stopped while the
record is still held.

Counting each task once per connection: rollups cover only *closed* seconds (those before
`until_s`); a full backfill sends those rollups plus the raw rows of every held batch whose
completion second is `until_s` or later, then live records. Seconds are closed `close_grace_s`
after they end, so a batch that arrives a little late is still counted in its own second.

A row that arrives after its second closed is counted in the first open second instead (the
rollup builder's rule), so for the backfill's split it belongs to that second: each batch
remembers the first second that was open when it arrived (`floor_s`), and a row counts as
of `max(its own second, that floor)`. Splitting by the row's own second sent such a row in
neither part: a monitor attaching in the second or so before the row's new second closed never
counted it (seen: 20 of 50 tasks backfilled when a batch landed just after a tick).
"""

from __future__ import annotations

import heapq
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from poolmon.core.batchview import NS_PER_S, last_second, rows_from_second
from poolmon.core.events import (
    TASK_COLUMNS,
    TASK_CRASHED,
    TASK_ERROR,
    TASK_TIMEOUT,
    Event,
    TaskBatch,
)
from poolmon.core.rollup import Rollup, RollupBuilder
from poolmon.core.rollup_pack import pack_rollup, unpack_rollup
from poolmon.runtime.endpoint.row_ring import RingRows, RowRing

Record = Event | TaskBatch
"""One numbered item of the telemetry stream."""

_FAILED: Final = (TASK_ERROR, TASK_TIMEOUT, TASK_CRASHED)
_WORKER_EXIT: Final = "poolmon.worker.exit"
_ROW_BYTES: Final = 8 * len(TASK_COLUMNS)
_BATCH_BYTES: Final = 1024
"""What the raw bound counts for a batch beside its rows: what one held as its own objects costs
(one the ring has no room for); ring-held ones cost ~200 B, so a row-a-batch load stays within."""


@dataclass(frozen=True, slots=True)
class Backfill:
    """What a newly attached monitor receives before the live stream.

    Attributes:
        rollups: Packed wire forms (version 2) of the closed rollups, oldest first.
        until_s: Every rollup covers a second before this one (0 when none).
        records: Held events (latest-by-key and recent) and the task rows of second
            `until_s` or later, as `(seq, record)` ascending.
        live_seq: The sequence number of the first live record.
    """

    rollups: tuple[dict[str, Any], ...]
    until_s: int
    records: tuple[tuple[int, Record], ...]
    live_seq: int


class _HeldBatch(NamedTuple):
    """One held task batch: its rows in the history's `RowRing`, or the batch itself.

    The batch is kept as built only when the ring has no room for it without dropping rows
    not yet rolled up (their only copy), or when it is empty or larger than the ring.
    """

    seq: int
    size: int
    """What it counts against the raw byte bound (`_ROW_BYTES` a row plus `_BATCH_BYTES`)."""
    last_s: int
    """Its last completion second (or its floor, if later): it stays until that is rolled up."""
    floor_s: int
    """The first second open when it arrived (its late rows count there)."""
    batch: TaskBatch | None
    where: RingRows | None
    ops: tuple[str, ...]
    error_types: tuple[str, ...]


class History:
    """Bounded history of the telemetry stream; see the module docstring.

    Args:
        rollup_seconds: Per-second rollups kept.
        raw_task_bytes: Bytes of raw task columns kept for backfill and resume.
        raw_events: Raw events kept for backfill and resume.
        latest_keys: (name, worker) pairs whose latest event is kept.
        forget_exited_s: Seconds after a worker's exit its latest events are dropped (the
            app's `forget_workers_after_s`, 600 by default).
        close_grace_s: Seconds after a second ends before its rollup is closed. Rows come in
            within a few hundred ms of their task's end (result flushes, the pool's 20 ms
            join tick, the endpoint's 100 ms idle flush); a later one is counted in the next
            open second, never lost. Half a second keeps the pool's own alerts about a second
            behind the work (`poolmon.runtime.insight`).
    """

    def __init__(
        self,
        *,
        rollup_seconds: int = 960,
        raw_task_bytes: int = 16 * 1024 * 1024,
        raw_events: int = 10_000,
        latest_keys: int = 4096,
        forget_exited_s: float = 600.0,
        close_grace_s: float = 0.5,
    ) -> None:
        if forget_exited_s < 0:
            raise ValueError(f"forget_exited_s must be >= 0, got {forget_exited_s}")
        # (second, tasks, failed, packed rollup): a closed second is only ever sent again.
        self._rollups: deque[tuple[int, int, int, bytes]] = deque(maxlen=rollup_seconds)
        self._rollup_bytes = 0
        self._builder = RollupBuilder()
        self._unrolled: list[TaskBatch] = []
        self._tasks: deque[_HeldBatch] = deque()
        self._ring = RowRing(raw_task_bytes // _ROW_BYTES, _BATCH_BYTES // _ROW_BYTES)
        self._task_bytes = 0
        self._raw_task_bytes = raw_task_bytes
        self._events: deque[tuple[int, Event]] = deque(maxlen=raw_events)
        self._latest: OrderedDict[tuple[str, Any], tuple[int, Event]] = OrderedDict()
        self._latest_keys = latest_keys
        self._forget_ns = int(forget_exited_s * NS_PER_S)
        self._exits: list[tuple[int, int, Any]] = []
        """Heap of (exit time, arrival, worker id) of exited workers whose latest events are
        kept: by time, so an exit stamped late (a clock stepped back) holds back no other."""
        self._exit_count = 0
        self._grace_ns = int(close_grace_s * NS_PER_S)
        self._evicted_through = -1
        self._closed_through: int | None = None
        self._rollup_evicted_s = -1
        """The newest second whose rollup was pushed out of `_rollups` (-1: none yet)."""
        self.next_seq = 0
        """The sequence number the next record will get."""

    # ---------------------------------------------------------------- adding
    def add_event(self, event: Event) -> int:
        """Number and keep one event; returns its sequence number."""
        seq = self.next_seq
        self.next_seq = seq + 1
        events = self._events
        if len(events) == events.maxlen:
            self._evicted_through = max(self._evicted_through, events[0][0])
        events.append((seq, event))
        worker = event.metadata.get("worker_id")
        key = (event.name, worker)
        latest = self._latest
        latest[key] = (seq, event)
        latest.move_to_end(key)
        if len(latest) > self._latest_keys:
            latest.popitem(last=False)
        if event.name == _WORKER_EXIT and worker is not None:
            self._exit_count += 1
            heapq.heappush(self._exits, (event.ts_ns, self._exit_count, worker))
        return seq

    def _forget_exited(self, now_ns: int) -> None:
        """Drop the latest events of workers that exited `forget_exited_s` ago or earlier."""
        exits, cut = self._exits, now_ns - self._forget_ns
        gone = set()
        while exits and exits[0][0] <= cut:
            gone.add(heapq.heappop(exits)[2])
        if gone:
            latest = self._latest
            for key in [k for k in latest if k[1] in gone]:
                del latest[key]

    def add_tasks(self, batch: TaskBatch) -> int:
        """Number and keep one task batch, and count it into its seconds' rollups."""
        seq = self.next_seq
        self.next_seq = seq + 1
        self._unrolled.append(batch)
        rows = len(batch.task_id)
        size = rows * _ROW_BYTES + _BATCH_BYTES
        floor_s = self.rollups_until_s
        last_s = max(last_second(batch), floor_s)
        ring = self._ring
        where = None
        if 0 < rows <= ring.capacity_rows:
            where = ring.put(batch)
            # Make room only by what the bound would drop anyway; a wrap can leave the free
            # rows split around the oldest batch, and then this batch is held as it is instead.
            while (
                where is None
                and self._task_bytes + size > self._raw_task_bytes
                and self._drop_oldest_rolled_up()
            ):
                where = ring.put(batch)
        kept = batch if where is None else None
        held = _HeldBatch(seq, size, last_s, floor_s, kept, where, batch.ops, batch.error_types)
        self._tasks.append(held)
        self._task_bytes += size
        self._evict()
        return seq

    def _drop_oldest_rolled_up(self) -> bool:
        """Drop the oldest held batch if its rows are all rolled up; False if it cannot go."""
        tasks = self._tasks
        closed = -1 if self._closed_through is None else self._closed_through
        if not tasks or tasks[0].last_s > closed:
            return False
        old = tasks.popleft()
        if old.where is not None:
            self._ring.drop_oldest()
        self._task_bytes -= old.size
        self._evicted_through = max(self._evicted_through, old.seq)
        return True

    def _evict(self) -> None:
        """Drop the oldest raw batches over the byte bound, but only once they are rolled up.

        A backfill sends the raw rows of the seconds not yet closed; a batch holding such rows
        is their only copy, so it stays (a few seconds' worth at most) even over the bound.
        """
        while (
            self._task_bytes > self._raw_task_bytes
            and len(self._tasks) > 1
            and self._drop_oldest_rolled_up()
        ):
            pass

    def _batch(self, held: _HeldBatch) -> TaskBatch:
        """The held batch as a `TaskBatch` (a copy out of the ring, or the batch kept as is)."""
        if held.where is None:
            assert held.batch is not None
            return held.batch
        return self._ring.batch(held.where, held.ops, held.error_types)

    def commit(self) -> None:
        """Hand the batches added since the last commit (one server flush) to the rollups.

        This only copies their columns into the builder's queue; the counting itself runs in
        blocks of `fold_rows` rows and when seconds close (`poolmon.core.rollup_fold`), so the
        pool's trivial tasks cost the endpoint tens of ns each here, not hundreds.
        """
        pending, self._unrolled = self._unrolled, []
        add = self._builder.add
        for batch in pending:
            add(batch)

    @property
    def invalid_batches(self) -> int:
        """Task batches the rollup builder skipped (bad indexes); kept raw, not rolled up."""
        return self._builder.invalid_batches

    def tick(self, now_ns: int) -> list[Rollup]:
        """Close the rollups of every second that ended at least `close_grace_s` ago.

        Returns:
            The rollups closed by this call, oldest first (the pool's insight feeds on them).
        """
        self.commit()
        self._forget_exited(now_ns)
        closed = self._builder.close_before(now_ns - self._grace_ns)
        rollups = self._rollups
        for rollup in closed:
            if len(rollups) == rollups.maxlen:
                self._rollup_bytes -= len(rollups[0][3])
                self._rollup_evicted_s = rollups[0][0]
            second = rollup.second_ns // NS_PER_S
            failed = sum(rollup.by_status[code] for code in _FAILED)
            blob = pack_rollup(rollup)
            rollups.append((second, rollup.count, failed, blob))
            self._rollup_bytes += len(blob)
        # Every second before the cut is closed, empty ones too (the builder counts a later row
        # for one of them in an open second), so `rollups_until_s` advances while idle.
        cut_s = (now_ns - self._grace_ns) // NS_PER_S - 1
        self._closed_through = max(
            cut_s, -1 if self._closed_through is None else self._closed_through
        )
        if closed:
            self._evict()
        return closed

    # ---------------------------------------------------------------- reading
    @property
    def close_grace_ns(self) -> int:
        """How long after a second ends its rollup is closed."""
        return self._grace_ns

    @property
    def oldest_seq(self) -> int:
        """The oldest sequence number a monitor can still resume from."""
        return self._evicted_through + 1

    @property
    def held_events(self) -> int:
        """Raw events and task batches held."""
        return len(self._events) + len(self._tasks)

    @property
    def held_bytes(self) -> int:
        """Approximate bytes held: task columns, packed rollups, events counted at 200 B."""
        return self._task_bytes + 200 * len(self._events) + self.rollup_bytes

    @property
    def rollup_bytes(self) -> int:
        """Bytes of the packed per-second rollups held (`poolmon.core.rollup_pack`)."""
        return self._rollup_bytes

    @property
    def rollups_until_s(self) -> int:
        """The first second not closed yet: every closed rollup covers a second before it."""
        return 0 if self._closed_through is None else self._closed_through + 1

    def rollups_since(self, second: int | None) -> tuple[dict[str, Any], ...] | None:
        """Packed wire forms of the held rollups of `second` and later, or None if one is gone.

        What a live-rollups monitor missed while it was away (docs/PROTOCOL.md, "Live
        rollups"); None (it must take a full backfill) when it names no second or a rollup
        at or after `second` was already pushed out.
        """
        if second is None or second <= self._rollup_evicted_s:
            return None
        return tuple(unpack_rollup(blob) for sec, *_, blob in self._rollups if sec >= second)

    def resume(self, from_seq: int) -> list[tuple[int, Record]] | None:
        """Every held record numbered `from_seq` or later, or None if some are gone."""
        if from_seq < self.oldest_seq or from_seq > self.next_seq:
            return None
        found: list[tuple[int, Record]] = [*self._tail(self._events, from_seq)]
        found += [(held.seq, self._batch(held)) for held in self._tail_tasks(from_seq)]
        found.sort(key=lambda item: item[0])
        return found

    def backfill(self) -> Backfill:
        """Everything a monitor attaching now needs to show the recent past (module doc)."""
        self.commit()
        until_s = (self._closed_through + 1) if self._closed_through is not None else 0
        records: dict[int, Record] = {seq: ev for seq, ev in self._latest.values()}
        records.update(self._events)
        for held in self._tasks:
            if held.last_s < until_s:
                continue  # every row of it is in the rollups already
            rows = rows_from_second(self._batch(held), until_s, held.floor_s)
            if rows is not None:
                records[held.seq] = rows
        return Backfill(
            tuple(unpack_rollup(blob) for *_, blob in self._rollups),
            until_s if self._rollups else 0,
            tuple(sorted(records.items(), key=lambda item: item[0])),
            self.next_seq,
        )

    def recent_totals(self, now_ns: int, seconds: int = 10) -> dict[str, float]:
        """Tasks finished and failed over the last closed `seconds`, and the rate per second."""
        last = (now_ns - self._grace_ns) // NS_PER_S - 1
        first = last - seconds + 1
        done = failed = 0
        for sec, count, failures, _ in reversed(self._rollups):
            if sec < first:
                break
            if sec <= last:
                done += count
                failed += failures
        return {
            "window_s": float(seconds),
            "tasks_done": float(done),
            "tasks_failed": float(failed),
            "throughput_per_s": done / seconds,
            "error_rate": (failed / done) if done else 0.0,
        }

    @staticmethod
    def _tail(items: deque[tuple[int, Event]], from_seq: int) -> Iterator[tuple[int, Event]]:
        tail = []
        for item in reversed(items):
            if item[0] < from_seq:
                break
            tail.append(item)
        return reversed(tail)

    def _tail_tasks(self, from_seq: int) -> list[_HeldBatch]:
        tail = []
        for item in reversed(self._tasks):
            if item.seq < from_seq:
                break
            tail.append(item)
        tail.reverse()
        return tail
