"""Everything a pool keys by user data is bounded, with an overflow that is counted (issue #17).

Op names, exception type names and session ids come from the program using the pool; one per
task (an id inside an op name, a session per request) must not grow the pool without bound.
"""

from __future__ import annotations

import gc
import time

import numpy as np
import pytest

from poolmon.bench.tasks import ident
from poolmon.core.errors import ConfigError
from poolmon.runtime.endpoint.server import EndpointServer
from poolmon.runtime.pool import Pool
from poolmon.runtime.pool.framing import MAX_OP_NAMES, OTHER_OPS, FunctionTable
from poolmon.runtime.pool.sessions import SessionTable
from poolmon.runtime.pool.submitstamps import SubmitStamps
from poolmon.runtime.pool.worker_main import MAX_ERROR_NAMES, OTHER_ERRORS, _TaskStamps


def test_op_names_beyond_the_cap_share_the_overflow_op() -> None:
    ft = FunctionTable()
    first = [ft.op_index(f"op-{i}") for i in range(MAX_OP_NAMES * 3)]
    assert len(ft.ops) == MAX_OP_NAMES
    assert ft.ops[-1] == OTHER_OPS
    assert first[: MAX_OP_NAMES - 1] == list(range(MAX_OP_NAMES - 1))
    assert set(first[MAX_OP_NAMES - 1 :]) == {MAX_OP_NAMES - 1}
    assert ft.ops_overflowed == MAX_OP_NAMES * 3 - (MAX_OP_NAMES - 1)
    assert ft.op_index("op-7") == 7  # names seen before the cap keep their own row


def test_a_worker_reports_at_most_the_capped_error_names() -> None:
    stamps = _TaskStamps()
    for seq in range(MAX_ERROR_NAMES * 2):
        stamps.error(seq, f"Error{seq}")
    assert len(stamps.err_names) == MAX_ERROR_NAMES
    assert stamps.err_names[-1] == OTHER_ERRORS
    idx = stamps.errors.tolist()[1::2]
    assert idx[-1] == MAX_ERROR_NAMES - 1
    assert max(idx) == MAX_ERROR_NAMES - 1


def test_session_bindings_stop_at_the_cap_and_count_the_rest() -> None:
    table = SessionTable(ttl_s=60, max_bindings=3)
    for i in range(10):
        table.use(f"s{i}", wid=1, now_ns=i, hit=False)
    table.rebind("s9", wid=2, now_ns=11)
    assert len(table) == 3
    assert table.unbound == 8  # 7 uses + 1 rebind of sessions that found no room
    table.rebind("s0", wid=2, now_ns=12)  # a bound session still moves
    assert table.lookup("s0") == 2
    assert table.since_last_report() == (0, 10, 0, 8)


def test_a_live_pool_folds_op_names_beyond_the_cap(make_pool) -> None:  # type: ignore[no-untyped-def]
    pool: Pool = make_pool(1)
    futures = [pool.options(op=f"req-{i}").submit(ident, i) for i in range(MAX_OP_NAMES + 50)]
    assert [f.result(30) for f in futures] == list(range(MAX_OP_NAMES + 50))
    ft = pool._ft
    assert len(ft.ops) == MAX_OP_NAMES
    assert ft.ops[-1] == OTHER_OPS
    held = set(ft.ops)
    assert ft.ops_overflowed == sum(f"req-{i}" not in held for i in range(MAX_OP_NAMES + 50)) > 50


def test_pruning_checkpoints_survives_a_live_view_of_them() -> None:
    # A frame kept alive by a profiler or gc.get_objects() can hold submit_times' numpy view;
    # resizing the array in place then raised BufferError and killed the pool's IO thread.
    stamps = SubmitStamps()
    for seq in range(10):
        stamps.note(seq)
    view = np.frombuffer(stamps._seqs, dtype=np.int64)
    stamps.prune(oldest_outstanding=8, before_ns=time.monotonic_ns() + 1)
    assert len(stamps) == 2
    assert view[0] == 0  # the old array is untouched while viewed
    more = np.frombuffer(stamps._times, dtype=np.int64)
    stamps.note(10)  # appending while viewed, too
    assert len(stamps) == 3
    assert len(more) == 2
    stamps.restart(20)
    assert len(stamps) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"history_seconds": 5}, "history_seconds"),
        ({"history_seconds": 1.5}, "history_seconds"),
        ({"history_raw_mib": 0}, "history_raw_mib"),
        ({"history_raw_mib": "16"}, "history_raw_mib"),
    ],
)
def test_bad_history_sizes_are_refused_up_front(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Pool(1, monitor=False, **kwargs)  # type: ignore[arg-type]


def test_the_endpoint_keeps_the_history_the_pool_was_given(make_pool, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "h.sock")
    make_pool(1, monitor=path, history_seconds=30, history_raw_mib=0.5)
    # type(), not isinstance(): isinstance on a dead weakref.proxy among the objects raises
    (server,) = [o for o in gc.get_objects() if type(o) is EndpointServer and str(o.path) == path]
    assert server.history._rollups.maxlen == 30
    assert server.history._raw_task_bytes == 512 * 1024
    assert "heap-trim" in server.insight.hooks
