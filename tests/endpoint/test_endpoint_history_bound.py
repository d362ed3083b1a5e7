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
    t0 = 1_700_000_000 * 10**9
    batches = [tasks(1, start=i, at_ns=t0 + i * 10**7) for i in range(6000)]  # 100 a second
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        history = History(raw_task_bytes=2 * MIB)
        for i, batch in enumerate(batches):
            history.add_tasks(batch)
            history.commit()
            if i % 100 == 99:  # the server ticks once a second; rolled-up batches may go
                history.tick(t0 + (i + 1) * 10**7 + 10**9)
        history.tick(t0 + len(batches) * 10**7 + 10**9)  # the last second closes too
        del batches
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert held <= 2 * MIB * 1.25, f"{held / MIB:.2f} MiB held for a 2 MiB bound"
    assert history.held_bytes - history.rollup_bytes <= 2 * MIB  # raw rows; rollups apart
