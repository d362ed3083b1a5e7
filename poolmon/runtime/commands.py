"""`poolmon ls` and `poolmon status`: one-shot questions to the pools on this machine.

Both speak the endpoint protocol through `MonitorClient` with a read-only connection and no
subscription, so asking never changes or slows a pool. Anything a user can get wrong (no pool,
a stale socket, several pools and none named, another protocol version) raises a
`PoolmonError` whose message is the one line `poolmon` prints before exiting with status 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from poolmon.core.errors import ConfigError, ConnectionFailed, PoolmonError
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.endpoint.paths import list_sockets, probe, socket_dir

PROBE_TIMEOUT_S = 1.0
"""How long `ls` waits for each pool's WELCOME."""


def describe_pool(path: Path, timeout_s: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    """One `ls` row: name, pid, socket path, and whether the pool is alive or stale."""
    row: dict[str, Any] = {
        "name": path.name.removesuffix(".sock"),
        "pid": None,
        "socket": str(path),
        "state": "stale",
        "started_at_ns": None,
        "detail": "",
    }
    if not probe(path, timeout_s):
        row["detail"] = "nothing listens here: the pool died without removing its socket"
        return row
    client = MonitorClient(path, read_only=True, client="poolmon ls", timeout_s=timeout_s)
    try:
        welcome = client.connect(subscribe=False)
    except PoolmonError as exc:
        row.update(state="unreachable", pid=client.peer_pid, detail=str(exc))
        return row
    finally:
        client.close()
    row.update(
        name=welcome.pool, pid=welcome.pid, state="alive", started_at_ns=welcome.started_at_ns
    )
    return row


_STATE_ORDER = {"alive": 0, "unreachable": 1, "stale": 2}
"""`ls` lists live pools first: a dead pool's leftover socket must not bury the live one."""


def prune(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Remove the stale rows' socket files (checked again first); returns the rows removed."""
    removed = []
    for row in rows:
        path = Path(row["socket"])
        if row["state"] == "stale" and not probe(path):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                row["detail"] = f"could not remove: {exc}"
                continue
            removed.append(row)
    return removed


def run_ls(args: argparse.Namespace) -> int:
    """`poolmon ls [ssh://HOST] [--json] [--prune]`: the pools in our socket folder, or HOST's.

    Live pools come first; a stale socket (its pool died without removing it) is marked, and
    `--prune` removes those (on this machine only).
    """
    from poolmon.runtime.targets import list_target

    host = getattr(args, "host", None)
    pruning = bool(getattr(args, "prune", False))
    if pruning and host:
        raise ConfigError("--prune removes stale sockets on this machine only; drop ssh://HOST")
    where, rows = list_target(host)
    rows.sort(key=lambda r: (_STATE_ORDER.get(r["state"], 1), r["name"]))
    removed = prune(rows) if pruning else []
    if removed:
        rows = [r for r in rows if r not in removed]
    if getattr(args, "json", False):
        out = {"socket_dir": where, "pools": rows}
        if pruning:
            out["pruned"] = [r["socket"] for r in removed]
        print(json.dumps(out, indent=2))
        return 0
    for r in removed:
        print(f"removed stale socket {r['socket']}")
    if not rows:
        print(f"no pools found in {where}")
        return 0
    width = max(len(r["name"]) for r in rows)
    print(f"{'NAME'.ljust(width)}  {'PID':>7}  {'STATE':<11}  SOCKET")
    for r in rows:
        pid = str(r["pid"]) if r["pid"] is not None else "-"
        print(f"{r['name'].ljust(width)}  {pid:>7}  {r['state']:<11}  {r['socket']}")
    stale = sum(r["state"] == "stale" for r in rows)
    if stale:
        print(
            f"{stale} stale socket{'s' if stale != 1 else ''} (the pool is gone): "
            "`poolmon ls --prune` removes them"
        )
    return 0


def resolve_socket(given: str | None) -> Path:
    """The socket `status`/`attach` should use: the one given, or the only live pool.

    A given name or path is checked by `poolmon.runtime.locate`, so a wrong one fails with
    what was found there (nothing, not a socket, stale, another user's) and what to do.

    Raises:
        ConnectionFailed: No pool runs, several do and none was named, or the one named
            cannot be reached.
    """
    from poolmon.runtime.locate import locate

    if given:
        return locate(given)
    folder = socket_dir()
    rows = [describe_pool(p) for p in list_sockets(folder)]
    alive = [Path(r["socket"]) for r in rows if r["state"] == "alive"]
    if not alive:
        stale = sum(r["state"] == "stale" for r in rows)
        hint = f" ({stale} stale socket(s) there: `poolmon ls --prune`)" if stale else ""
        raise ConnectionFailed(
            f"no running pool found in the socket folder {folder}{hint}; name a pool or pass "
            "a socket path"
        )
    if len(alive) > 1:
        names = ", ".join(p.name.removesuffix(".sock") for p in alive)
        raise ConnectionFailed(f"{len(alive)} pools are running in {folder}; name one of: {names}")
    return alive[0]


def run_status(args: argparse.Namespace) -> int:
    """`poolmon status [TARGET] [--json]`: one pool's workers, queue, throughput and errors.

    What it reports and how each figure is computed: `runtime.status_report`, docs/CLI.md.

    TARGET is a name, a socket path or ssh://[user@]host[:port]/NAME (`runtime.targets`).
    """
    from poolmon.runtime.status_report import fetch_status
    from poolmon.runtime.status_text import format_status
    from poolmon.runtime.targets import open_target

    with open_target(getattr(args, "socket", None)) as target:
        status = fetch_status(target.path)
        status["socket"] = target.label
    if getattr(args, "json", False):
        print(json.dumps(status, indent=2, default=str))
    else:
        print(format_status(status))
    return 0
