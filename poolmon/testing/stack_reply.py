"""A hand-built `worker_stack` reply, for the stack modal's Pilot and snapshot tests.

Hand-built (not from a live pool) so a snapshot is byte-for-byte stable: the frames, pid and
age never change. Its shape is exactly what `Pool.worker_stack` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from poolmon.runtime.pool.stacks import INPROCESS_LIMITS
from poolmon.runtime.source import CommandResult


def stack_reply(worker_id: int) -> dict[str, Any]:
    """A worker stuck waiting on a lock in `app.jobs.reindex`, 93.4 s into its task."""
    return {
        "worker_id": worker_id,
        "pid": 41872,
        "producer": "inprocess",
        "limits": INPROCESS_LIMITS,
        "notes": ["py-spy is not installed (pip install py-spy)"],
        "frames": [
            ["/srv/app/jobs.py", 88, "reindex", "with self._index_lock:"],
            ["/srv/app/jobs.py", 41, "run_batch", "return [reindex(doc) for doc in docs]"],
            ["/srv/app/poolmon/runtime/pool/worker_main.py", 194, "_serve", "r = fns[...]"],
        ],
        "op": "run_batch",
        "task_id": 17342,
        "age_s": 93.4,
        "args": "(['doc-118', 'doc-119', 'doc-120'],)",
    }


def stack_responder(name: str, args: Mapping[str, Any]) -> CommandResult:
    """Answer `worker_stack` with `stack_reply`, refuse an unknown worker like the pool."""
    if name != "worker_stack":
        return CommandResult(False, reason=f"unknown command {name!r}")
    if args.get("worker_id") == 999:
        return CommandResult(False, reason="worker_stack: no live worker with id 999")
    return CommandResult(True, stack_reply(int(args["worker_id"])))
