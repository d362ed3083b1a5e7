"""The pools on another machine: list them over ssh, and forward one's socket here.

Listing runs one shell command on the host. If `poolmon` is on the host's PATH it answers
(`poolmon ls --json`: it knows that user's socket folder, configuration included); otherwise
the command lists `$XDG_RUNTIME_DIR/poolmon/*.sock` and `/tmp/poolmon-<uid>/*.sock` itself, and
each socket found is forwarded and asked for its WELCOME here, so both ways give the same rows
as a local `poolmon ls`: name, pid, state, the host's socket path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from poolmon.core.errors import ConnectionFailed
from poolmon.runtime.ssh.errors import ssh_lines
from poolmon.runtime.ssh.session import SshSession

PLAIN_MARK = "#poolmon-sockets"
LIST_SCRIPT = (
    "if command -v poolmon >/dev/null 2>&1 && poolmon ls --json 2>/dev/null; then exit 0; fi; "
    f"echo '{PLAIN_MARK}'; "
    'for d in "${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/poolmon}" "/tmp/poolmon-$(id -u)"; do '
    '[ -n "$d" ] || continue; for f in "$d"/*.sock; do [ -S "$f" ] && printf "%s\\n" "$f"; '
    "done; done; exit 0"
)
"""The remote listing (POSIX sh): `poolmon ls --json`, else the socket files themselves."""


def list_remote(session: SshSession) -> list[dict[str, Any]]:
    """The host's pools as `poolmon ls` rows (socket = the path on the host)."""
    done = session.run(LIST_SCRIPT)
    if done.returncode != 0:
        raise ConnectionFailed(
            f"{session.url.host_url}: listing the pools failed (exit status {done.returncode}) "
            f"[{ssh_lines(done.stderr)}]"
        )
    out = done.stdout.strip()
    if not out.startswith(PLAIN_MARK):
        try:
            rows = json.loads(out)["pools"]
        except (ValueError, KeyError, TypeError):
            raise ConnectionFailed(
                f"{session.url.host_url}: `poolmon ls --json` there printed something else: "
                f"{out[:200]!r}"
            ) from None
        return [dict(r, via="poolmon ls") for r in rows if isinstance(r, dict)]
    from poolmon.runtime.commands import describe_pool

    rows = []
    for index, remote in enumerate(out.splitlines()[1:]):
        local = session.forward(remote, f"probe-{index}.sock")
        row = describe_pool(local)
        if row["state"] != "alive":
            row["name"] = Path(remote).name.removesuffix(".sock")
        row.update(socket=remote, via="socket folder")
        rows.append(row)
    return rows


def pool_names(rows: list[dict[str, Any]]) -> str:
    """`api (alive), old (stale)` for an error message."""
    return ", ".join(f"{r['name']} ({r['state']})" for r in rows)


def open_remote_pool(session: SshSession, name: str) -> Path:
    """Forward the socket of the pool `name` on the host (or of the socket path given).

    Raises:
        ConnectionFailed: No such pool there (the message lists the ones there), or it is not
            running (a stale socket).
    """
    if name.startswith("/"):
        return session.forward(name, "pool.sock")
    rows = list_remote(session)
    matches = [
        r
        for r in rows
        if r.get("name") == name or Path(str(r.get("socket", ""))).name == f"{name}.sock"
    ]
    alive = [r for r in matches if r.get("state") == "alive"]
    host = session.url.host_url
    if not matches:
        there = pool_names(rows) if rows else "none"
        raise ConnectionFailed(f"{host}: no pool named {name!r} on the host; pools there: {there}")
    if not alive:
        raise ConnectionFailed(
            f"{host}: pool {name!r} is not running ({matches[0]['state']}: "
            f"{matches[0].get('detail') or matches[0]['socket']})"
        )
    return session.forward(str(alive[0]["socket"]), "pool.sock")
