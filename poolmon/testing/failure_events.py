"""Hand-built `poolmon.task.exception` events, for tests and pictures of the failure screens.

The seeded demo stream carries task rows only (their error types), not the exception events
a pool sends with each failure's message and traceback; tests feed these beside it.
"""

from __future__ import annotations

from poolmon.core import catalog as C
from poolmon.core.events import Event

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/app/worker_main.py", line 221, in _serve\n'
    "    result = fn(*args, **kwargs)\n"
    '  File "/srv/app/orders.py", line 12, in score_model\n'
    "    return _check(order)\n"
    '  File "/srv/app/orders.py", line 40, in _check\n'
    '    raise ValueError(f"order {order} has no line items")\n'
    "ValueError: order 4711 has no line items\n"
)
"""A short remote traceback as a worker formats it."""


def exception_event(
    ts_ns: int,
    task_id: int,
    *,
    op: str = "score_model",
    worker_id: int = 3,
    error_type: str = "ValueError",
    message: str | None = None,
    traceback: str = TRACEBACK,
) -> Event:
    """One failed task's `poolmon.task.exception` event, as the pool emits it."""
    return Event(
        C.TASK_EXCEPTION,
        ts_ns,
        {"duration_ns": 2_500_000},
        {
            "pool": "demo",
            "worker_id": worker_id,
            "pid": 4243 + worker_id,
            "task_id": task_id,
            "op": op,
            "error_type": error_type,
            "message": f"order {task_id} has no line items" if message is None else message,
            "category": "task",
            "traceback": traceback,
        },
    )
