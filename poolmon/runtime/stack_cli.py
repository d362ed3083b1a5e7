"""`poolmon stack NAME WORKER_ID [--all] [--method M] [--json]`: what a worker is doing now.

Sends the `worker_stack` endpoint command (a control connection: stacks show arguments and
source lines, see `poolmon.runtime.endpoint.stacks`). `--all` asks every live worker in turn,
the "dump all threads" an operator reaches for when the whole pool is slow; one worker that
cannot be read is reported in its place and the others are still printed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from poolmon.core.errors import ConnectionFailed, PoolmonError
from poolmon.core.stacks import format_stack
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.commands import resolve_socket

CLIENT_NAME = "poolmon stack"


class StackRefused(PoolmonError):
    """The pool could not give the stack (unknown worker, no producer, read-only)."""


def worker_ids(client: MonitorClient) -> list[int]:
    """The live workers' ids, from the `stats` command."""
    reply = client.command("stats", timeout_s=10)
    if not reply.ok:
        raise ConnectionFailed(f"the pool could not list its workers: {reply.reason}")
    return [int(w["worker_id"]) for w in reply.result.get("pool", {}).get("workers", [])]


def fetch_stack(client: MonitorClient, worker_id: int, method: str) -> dict[str, Any]:
    """One worker's `worker_stack` reply; StackRefused with the pool's reason."""
    reply = client.command("worker_stack", {"worker_id": worker_id, "method": method}, timeout_s=20)
    if not reply.ok:
        raise StackRefused(reply.reason)
    return dict(reply.result)


def run_stack(args: argparse.Namespace) -> int:
    """Print one worker's stack, or every worker's with --all."""
    if args.worker_id is None and not args.all:
        raise StackRefused("give a WORKER_ID (see `poolmon status NAME`) or --all")
    path: Path = resolve_socket(args.name)
    client = MonitorClient(path, read_only=False, client=CLIENT_NAME, history=False)
    client.connect(subscribe=False)
    with client:
        ids = worker_ids(client) if args.all else [args.worker_id]
        replies: list[dict[str, Any]] = []
        for wid in ids:
            try:
                replies.append(fetch_stack(client, wid, args.method))
            except StackRefused as exc:
                if not args.all:
                    raise
                replies.append({"worker_id": wid, "error": str(exc)})
    if args.json:
        print(json.dumps(replies if args.all else replies[0], indent=2))
        return 0
    blocks = [
        f"worker {r['worker_id']}: {r['error']}" if "error" in r else "\n".join(format_stack(r))
        for r in replies
    ]
    print("\n\n".join(blocks))
    return 0
