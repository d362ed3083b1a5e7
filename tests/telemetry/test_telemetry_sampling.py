from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poolmon.core.events import STATUS_NAMES, TASK_OK, TaskBatch
from poolmon.runtime.telemetry import Telemetry
from poolmon.runtime.telemetry.sampling import sample_batch, totals_metadata

rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 10_000),
        st.integers(-1, 8),
        st.sampled_from(["f", "g"]),
        st.integers(0, 10**12),
        st.integers(0, 10**9),
        st.integers(0, 10**9),
        st.integers(0, len(STATUS_NAMES) - 1),
        st.sampled_from(["", "ValueError"]),
    ),
    max_size=60,
)


@given(rows_strategy, st.integers(1, 7))
def test_sampling_keeps_failures_and_every_nth_ok_and_totals_are_exact(
    rows: list[tuple[int, int, str, int, int, int, int, str]], every: int
) -> None:
    batch = TaskBatch.from_rows(rows)
    sampled = sample_batch(batch, every)
    expected = [r for r in batch.rows() if r[6] != TASK_OK or r[0] % every == 0]
    assert list(sampled.rows()) == expected
    totals = totals_metadata(batch, every)
    assert totals["tasks_total"] == len(rows)
    assert sum(totals["status_counts"]) == len(rows)
    for code in range(len(STATUS_NAMES)):
        assert totals["status_counts"][code] == sum(1 for r in rows if r[6] == code)
    assert totals["duration_ns_total"] == sum(r[4] for r in rows)
    assert totals["wait_ns_total"] == sum(r[5] for r in rows)


def test_registry_applies_sampling_and_carries_totals() -> None:
    tel = Telemetry(task_sample_every=4)
    got: list[tuple[TaskBatch, Mapping[str, Any]]] = []
    tel.attach_batch("b", lambda b, md: got.append((b, md)))
    rows = [(i, 0, "f", 0, 10, 1, TASK_OK, "") for i in range(100)]
    rows.append((101, 0, "f", 0, 10, 1, 1, "ValueError"))
    tel.emit_tasks(TaskBatch.from_rows(rows), {"pool": "p"})
    delivered, md = got[0]
    assert len(delivered) == 25 + 1
    assert md["pool"] == "p"
    assert md["tasks_total"] == 101
    assert md["status_counts"][TASK_OK] == 100
    assert md["status_counts"][1] == 1
    assert md["sample_every"] == 4
    tel.set_task_sampling(1)
    tel.emit_tasks(TaskBatch.from_rows(rows), {"pool": "p"})
    assert len(got[1][0]) == 101
    assert "tasks_total" not in got[1][1]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_sampling_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="int >= 1"):
        Telemetry(task_sample_every=bad)
