"""TaskBatch: the columnar per-task record every layer shares."""

from __future__ import annotations

from array import array

import pytest

from poolmon.core.events import TASK_ERROR, TASK_OK, TaskBatch


def _rows() -> list[tuple[int, int, str, int, int, int, int, str]]:
    return [
        (1, 0, "fetch", 10, 5, 1, TASK_OK, ""),
        (2, 1, "parse", 11, 6, 2, TASK_ERROR, "ValueError"),
    ]


def test_rows_round_trip() -> None:
    batch = TaskBatch.from_rows(_rows())
    assert len(batch) == 2
    assert list(batch.rows()) == _rows()
    assert batch.ops == ("fetch", "parse")
    assert batch.error_types == ("", "ValueError")


def test_concat_remaps_name_tables() -> None:
    a = TaskBatch.from_rows(_rows())
    b = TaskBatch.from_rows(
        [(3, 2, "parse", 12, 7, 3, TASK_ERROR, "KeyError"), (4, 0, "save", 13, 8, 4, TASK_OK, "")]
    )
    joined = TaskBatch.concat([a, b])
    assert list(joined.rows()) == list(a.rows()) + list(b.rows())
    assert joined.ops == ("fetch", "parse", "save")
    assert joined.error_types == ("", "ValueError", "KeyError")
    assert TaskBatch.concat([a]) is a


def test_ragged_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="column 'worker_id'"):
        TaskBatch(
            ("f",),
            ("",),
            array("q", [1]),
            array("q"),
            array("q", [0]),
            array("q", [0]),
            array("q", [0]),
            array("q", [0]),
            array("q", [0]),
            array("q", [0]),
        )


def test_error_table_must_start_with_no_error() -> None:
    with pytest.raises(ValueError, match="error_types"):
        TaskBatch(error_types=("ValueError",))
