"""The raw-batch bound of the endpoint's history holds for real memory, small batches too."""

from __future__ import annotations

import gc
import tracemalloc

from endpoint_fakes import tasks

from poolmon.runtime.endpoint import History

MIB = 1024 * 1024


def test_raw_batches_stay_within_their_bound_even_one_row_at_a_time() -> None:
    # A lightly loaded pool sends batches of a row or two; each costs ~1 KB of Python
    # objects beside its 64 bytes of columns, which the bound must count (issue #17).
    # The batches are built while tracing, so whatever the history keeps of them counts; the
    # base is taken after the history is built, so its fixed buffers (the rollup builder's
    # fold columns, ~1.9 MiB whatever the bound) do not.
    t0 = 1_700_000_000 * 10**9
    gc.collect()
    tracemalloc.start()
    try:
        history = History(raw_task_bytes=2 * MIB)
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        for i in range(6000):  # 100 a second
            history.add_tasks(tasks(1, start=i, at_ns=t0 + i * 10**7))
            history.commit()
            if i % 100 == 99:  # the server ticks once a second; rolled-up batches may go
                history.tick(t0 + (i + 1) * 10**7 + 10**9)
        history.tick(t0 + 6000 * 10**7 + 10**9)  # the last second closes too
        gc.collect()
        # The raw rows' block is an mmap of its own, which tracemalloc does not see.
        held = tracemalloc.get_traced_memory()[0] - base + history._ring.allocated_bytes
    finally:
        tracemalloc.stop()
    assert held <= 2 * MIB * 1.25, f"{held / MIB:.2f} MiB held for a 2 MiB bound"
    assert history.held_bytes - history.rollup_bytes <= 2 * MIB  # raw rows; rollups apart
