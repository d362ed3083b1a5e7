"""Failures list and details, operation drill-down, two-way sorts, the cursor kept in view."""

from __future__ import annotations

from typing import Any

from poolmon.core.failures import (
    FAILURES_KEPT,
    TRACEBACK_CAP,
    FailureRing,
    clip_message,
    clip_traceback,
)
from poolmon.core.op_detail import operation_detail
from poolmon.core.snapshot import LatencySummary, WorkerView
from poolmon.screens.failure_detail import FailureDetailScreen
from poolmon.screens.failures import FailuresScreen
from poolmon.screens.operation_detail import OperationDetailScreen
from poolmon.screens.operations import OperationsScreen
from poolmon.screens.overview import OverviewScreen
from poolmon.testing.failure_events import TRACEBACK, exception_event
from poolmon.widgets._sorting import DOWN, UP, SortOrder
from poolmon.widgets._worker_rows import visible_workers
from poolmon.widgets.latency_histogram import LatencyHistogram
from poolmon.widgets.operations_table import OperationsTable
from poolmon.widgets.worker_table import WorkerTable
from tests.ui.test_ui_keys import async_test

SIZE = (120, 40)
# -- pure ---------------------------------------------------------------------------------------


def test_short_texts_are_kept_whole() -> None:
    assert clip_traceback(TRACEBACK) == TRACEBACK
    assert clip_message("boom") == "boom"


def test_a_long_traceback_keeps_its_head_and_its_innermost_frames() -> None:
    frames = "".join(f'  File "m.py", line {i}, in f{i}\n    g{i}()\n' for i in range(2000))
    text = "Traceback (most recent call last):\n" + frames + "KeyError: 'sku'\n"
    clipped = clip_traceback(text)
    assert len(clipped) <= TRACEBACK_CAP
    assert clipped.startswith("Traceback (most recent call last):")
    assert clipped.endswith("KeyError: 'sku'\n")
    assert "in f1999" in clipped
    assert "characters cut by poolmon" in clipped


def test_a_huge_message_is_cut_with_its_length() -> None:
    clipped = clip_message("y" * 50_000, cap=200)
    assert len(clipped) <= 200
    assert clipped.endswith("[50,000 characters, cut by poolmon]")


def test_the_ring_is_bounded_newest_first_and_ignores_a_resent_task() -> None:
    ring = FailureRing()
    for i in range(FAILURES_KEPT + 30):
        ring.add(exception_event(10**18 + i, i))
    ring.add(exception_event(10**18 + 999, FAILURES_KEPT + 29))  # re-sent: same task id
    recent = ring.recent()
    assert len(recent) == FAILURES_KEPT
    assert recent[0].task_id == FAILURES_KEPT + 29
    assert recent[-1].task_id == 30
    ring.add(exception_event(10**18, 5))  # evicted long ago: a new failure again
    assert ring.recent()[0].task_id == 5


def test_sort_order_cycles_in_the_natural_direction_and_flips() -> None:
    order = SortOrder(("id", "done"), frozenset({"done"}), "id")
    assert order.header("id", "ID") == f"ID{UP}"
    assert order.header("done", "Done") == "Done"
    done = order.cycled()
    assert done.column == "done"
    assert done.arrow == DOWN
    assert done.flipped().arrow == UP
    assert done.flipped().cycled().column == "id"


def test_reversed_worker_sort_keeps_dead_workers_and_blanks_last() -> None:
    def w(i: int, done: int, alive: bool = True, cpu: float | None = 1.0) -> WorkerView:
        return WorkerView(
            i, tasks_done=done, alive=alive, cpu_percent=cpu, latency=LatencySummary()
        )

    rows = [w(0, 5), w(1, 9), w(2, 7, alive=False), w(3, 1, cpu=None)]
    assert [r.worker_id for r in visible_workers(rows, "", "done")] == [1, 0, 3, 2]
    assert [r.worker_id for r in visible_workers(rows, "", "done", False)] == [3, 0, 1, 2]
    assert [r.worker_id for r in visible_workers(rows, "", "cpu", False)][-2:] == [3, 2]


def test_operation_detail_agrees_with_the_operations_row(ui_app: Any) -> None:
    _, source = ui_app(seconds=90)
    agg = source.engine
    for op in agg.snapshot(60).operations:
        d = operation_detail(agg, op.name, 60)
        assert d.view == op
        assert d.histogram == op.histogram
        assert sum(d.histogram.counts) == op.latency.count
        assert sum(n for _, n in d.error_types) + d.unattributed == op.errors
        assert all(t.task.op == op.name for t in d.slowest)
        took = [t.task.duration_ns for t in d.slowest]
        assert took == sorted(took, reverse=True)
        rates = [v for v in d.throughput.values if v is not None]
        assert rates
        assert d.throughput.step_ns == 10**9
    assert operation_detail(agg, "never_ran", 60).view is None


# -- Pilot --------------------------------------------------------------------------------------


@async_test
async def test_failures_list_and_traceback(ui_app: Any) -> None:
    app, source = ui_app()
    now = source.clock.time_ns()
    source.feed([exception_event(now - 5 * 10**9, 701), exception_event(now - 10**9, 702)])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("E")
        assert isinstance(app.screen, FailuresScreen)
        await pilot.pause()
        table = app.screen.query_one("FailureTable")
        assert table.row_count == 2
        assert table.highlighted_task == 702
        await pilot.press("down", "enter")
        assert isinstance(app.screen, FailureDetailScreen)
        assert app.screen.failure.task_id == 701
        await pilot.pause()
        text = str(app.screen.query_one("#traceback-text").render())
        assert "raise ValueError" in text
        assert "orders.py" in text
        await pilot.press("escape")
        assert isinstance(app.screen, FailuresScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)


@async_test
async def test_operations_sort_both_ways_and_histogram_follows_the_cursor(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        await pilot.pause()
        table = app.screen.query_one(OperationsTable)
        assert table.order.column == "p99"
        assert f"p99{DOWN}" in str(table.columns[table.ordered_columns[7].key].label)
        await pilot.press("s")
        assert table.order.column == "max"
        await pilot.press("S")
        assert table.order.descending is False
        names = [table.get_row_at(i)[0].plain for i in range(table.row_count)]
        snap = app._snapshot
        by_max = sorted(snap.operations, key=lambda o: o.latency.max_ns or 0)
        assert names == [o.name for o in by_max]
        histogram = app.screen.query_one(LatencyHistogram)
        assert table.highlighted_op == "render_report"  # the cursor kept its operation
        await pilot.press(*["up"] * table.row_count)
        await pilot.pause()
        first = table.highlighted_op
        assert first == names[0]
        assert histogram.label == first
        await pilot.press("down")
        await pilot.pause()
        assert histogram.label == table.highlighted_op != first
        view = next(o for o in snap.operations if o.name == table.highlighted_op)
        assert histogram.histogram == view.histogram


@async_test
async def test_enter_on_an_operation_drills_down(ui_app: Any) -> None:
    app, source = ui_app()
    now = source.clock.time_ns()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("o")
        await pilot.pause()
        op = app.screen.query_one(OperationsTable).highlighted_op
        source.feed([exception_event(now, 900, op=str(op))])
        await pilot.press("enter")
        assert isinstance(app.screen, OperationDetailScreen)
        assert app.screen.op == op
        await pilot.pause()
        frame = app.screen.frame
        assert frame is not None
        assert frame.operation is not None
        assert frame.operation.name == op
        assert frame.operation.view is not None
        await pilot.press("E")
        assert isinstance(app.screen, FailuresScreen)
        assert app.screen.op == op
        await pilot.pause()
        assert app.screen.query_one("FailureTable").row_count == 1
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, OperationsScreen)


@async_test
async def test_worker_sort_reverses_and_the_header_says_so(ui_app: Any) -> None:
    app, _ = ui_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.screen.query_one(WorkerTable)
        ids = list(table._row_ids)
        await pilot.press("S")
        assert table.sort.arrow == DOWN
        assert "ID▼" in table.render_line(0).text
        alive = [i for i in ids if i in table._row_ids[: len(ids)]]
        assert table._row_ids != ids
        assert sorted(alive) == sorted(ids)
        await pilot.press("s")
        assert table.row_order == "state"
        assert not table.sort_reversed


@async_test
async def test_the_cursor_never_sits_on_a_hidden_row(ui_app: Any) -> None:
    from poolmon.testing.streams import StreamSpec

    app, _ = ui_app(spec=StreamSpec(workers=40))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(WorkerTable)
        table.focus()
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_in_view()
        assert table.cursor_row == table.row_count - 1
        table.scroll_to(y=0, animate=False, immediate=True)  # the mouse wheel, the scrollbar
        await pilot.pause()
        assert table.cursor_in_view()
        top = round(table.scroll_offset.y)
        shown = table._row_ids[top : top + table.size.height - 1]
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.worker_id in shown  # type: ignore[attr-defined]


@async_test
async def test_enter_on_a_failed_task_in_a_drill_down_opens_its_traceback(ui_app: Any) -> None:
    app, source = ui_app()
    snap = source.snapshot(60)
    worker, failed = next(
        (w, t) for w in snap.workers for t in w.recent_tasks if t.status == "error"
    )
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.screen.query_one(WorkerTable)
        table.cursor_row = table._row_ids.index(worker.worker_id)
        await pilot.press("enter")
        await pilot.pause()
        source.feed([exception_event(source.clock.time_ns(), failed.task_id, op=failed.op)])
        app.refresh_frame()
        tasks = app.screen.query_one("TaskList")
        tasks.focus()
        await pilot.pause()
        tasks.move_cursor(row=tasks.get_row_index(str(failed.task_id)))
        await pilot.press("enter")
        assert isinstance(app.screen, FailureDetailScreen)
        assert app.screen.failure.task_id == failed.task_id


def test_a_one_minute_drill_down_chart_starts_at_the_left_edge(ui_app: Any) -> None:
    """Per-worker series use 5-s slots: the first point sits within 5 s of the window start."""
    _, source = ui_app(seconds=90)
    snap = source.snapshot(60)
    worker = source.worker(snap.workers[0].worker_id, 60)
    series = worker.throughput
    assert series.step_ns == 5 * 10**9
    first = next(i for i, v in enumerate(series.values) if v is not None)
    assert series.start_ns + first * series.step_ns - (snap.taken_at_ns - 60 * 10**9) <= 5 * 10**9
