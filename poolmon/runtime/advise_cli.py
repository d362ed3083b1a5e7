"""`poolmon advise NAME [--json]`: the advisor's findings for a running pool, from the pool.

Why ask the pool rather than attach and compute here: the pool already holds the full 15
minutes in its own aggregator (the insight the auto-tuner reads), so one read-only `advise`
command answers at once with the very findings auto-tuning acts on, computed with the pool's
real settings and cores; attaching would need a backfill (whose rollups carry no per-worker
memory history, so no leak finding) and a wait. The connection is read-only: advising never
changes the pool. Each finding prints with its evidence, and for a setting change the
`poolmon tune` command that applies it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from poolmon.core.advisor.model import Finding
from poolmon.core.errors import ConnectionFailed
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.commands import resolve_socket

LABEL = {"critical": "CRIT", "warning": "WARN", "info": "info"}


def fetch_advice(socket: str | None, timeout_s: float = 5.0) -> dict[str, Any]:
    """The pool's `advise` reply, plus its name."""
    path = resolve_socket(socket)
    with MonitorClient(path, read_only=True, client="poolmon advise", timeout_s=timeout_s) as c:
        reply = c.command("advise")
        welcome = c.welcome
    if not reply.ok:
        raise ConnectionFailed(f"{path}: the pool gave no advice: {reply.reason}")
    assert welcome is not None
    return {"pool": welcome.pool, "socket": str(path), **dict(reply.result)}


def format_advice(advice: dict[str, Any]) -> str:
    """Findings in words, most urgent first, each with evidence and how to apply its action."""
    findings = [Finding.from_wire(w) for w in advice.get("findings", [])]
    tune = advice.get("autotune") or {}
    state = "on" if tune.get("enabled") else "off"
    counts = {s: sum(f.severity == s for f in findings) for s in ("critical", "warning", "info")}
    lines = [
        f"pool {advice['pool']}: {len(findings)} finding(s) ({counts['critical']} critical, "
        f"{counts['warning']} warning, {counts['info']} info); auto-tuning {state}"
    ]
    if not findings:
        lines.append("nothing to change (or under 30 s of data yet)")
    for f in findings:
        lines.append("")
        lines.append(f"{LABEL[f.severity]:<5} {f.title}")
        lines.append(
            f"      confidence {f.confidence_label} ({f.confidence:.2f}); impact: {f.impact}"
        )
        for e in f.evidence:
            lines.append(f"      - {e.text()}")
        lines.append(f"      action: {_how(f, advice['pool'])}")
    decisions = tune.get("decisions") or []
    if decisions:
        lines.append("")
        lines.append("auto-tuning, latest decisions:")
        for d in decisions[-5:]:
            change = (
                f" {d.get('from_size')} -> {d.get('to_size')}"
                if d.get("to_size") is not None
                else ""
            )
            lines.append(f"  {d.get('kind')}{change}: {d.get('reason')}")
    return "\n".join(lines)


def _how(f: Finding, pool: str) -> str:
    a = f.action
    if a.kind in ("set", "resize"):
        pairs = " ".join(f"{k}={v}" for k, v in a.settings)
        return f"{a.text}  (poolmon tune {pool} {pairs}, or x in the app's advisor)"
    if a.kind == "recycle":
        return f"{a.text}  (x in the app's advisor, or r on the worker)"
    return f"hint: {a.text}"


def run_advise(args: argparse.Namespace) -> int:
    """`poolmon advise [SOCKET] [--json]`."""
    advice = fetch_advice(getattr(args, "socket", None))
    if getattr(args, "json", False):
        print(json.dumps(advice, indent=2, default=str))
    else:
        print(format_advice(advice))
    return 0
