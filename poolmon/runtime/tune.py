"""`poolmon tune NAME KEY=VALUE...` and `poolmon tune NAME --show [--json]`: settings from scripts.

Same path as the app: the `settings` and `set` endpoint commands, so the pool checks every value
(all or nothing) and every change is a `poolmon.control.command` event that attached monitors
show in their change log. Values are parsed against the pool's own description of each setting
before anything is sent, so a typo is reported with the accepted range and nothing changes.
A refusal (bad value, read-only, unknown pool) prints one line and exits 2.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from poolmon.core.errors import ConfigError, ConnectionFailed, PoolmonError
from poolmon.core.tuning import SettingSpec, Value, format_value, spec_for, validate_changes
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.commands import resolve_socket

CLIENT_NAME = "poolmon tune"
"""How this command introduces itself; the change log shows it as who made the change."""


class Refusal(PoolmonError):
    """The pool (or the parsing of KEY=VALUE) refused the change; nothing was changed."""


def connect(path: Path, *, read_only: bool) -> MonitorClient:
    """A connection for commands only: no subscription, so the pool streams us nothing."""
    client = MonitorClient(path, read_only=read_only, client=CLIENT_NAME, history=False)
    client.connect(subscribe=False)
    return client


def fetch_settings(client: MonitorClient) -> list[SettingSpec]:
    """Ask a connected pool for its settings."""
    reply = client.command("settings", timeout_s=10)
    if not reply.ok:
        raise ConnectionFailed(f"the pool could not list its settings: {reply.reason}")
    return [SettingSpec.from_wire(row) for row in reply.result.get("settings", [])]


def parse_assignments(specs: Sequence[SettingSpec], pairs: Sequence[str]) -> dict[str, Value]:
    """`KEY=VALUE` words -> typed values, every one checked; Refusal lists every problem."""
    by_key = {s.key: s for s in specs}
    out: dict[str, Value] = {}
    reasons: list[str] = []
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            reasons.append(f"{pair!r} is not KEY=VALUE")
            continue
        try:
            out[key] = spec_for(by_key, key).convert(text)
        except ConfigError as exc:
            reasons.append(str(exc))
    try:  # the pool's own rules, checked here first so a bad value is not even sent
        checked = validate_changes(by_key, out) if out else {}
    except ConfigError as exc:
        reasons.append(str(exc))
    if not reasons:
        return checked
    raise Refusal("; ".join(reasons) + "; nothing was changed")


def format_settings(name: str, specs: Sequence[SettingSpec]) -> str:
    """The `--show` table: key, value, accepted range, unit, what it does."""
    rows = [
        (
            s.key,
            format_value(s.value) if s.value is not None or not s.none_means else s.none_means,
            s.range_text(),
            s.unit,
            s.help + ("" if s.live else " (needs a restart)"),
        )
        for s in specs
    ]
    head = ("SETTING", "VALUE", "RANGE", "UNIT", "WHAT IT DOES")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = [f"pool {name}: {len(specs)} run-time settings"]
    for row in [head, *rows]:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[4]]))
    return "\n".join(line.rstrip() for line in lines)


def format_changes(changed: dict[str, Any]) -> str:
    """One line per change, `key: from -> to`; says so when nothing changed."""
    if not changed:
        return "nothing changed: every value was already set"
    return "\n".join(
        f"{key}: {format_value(old)} -> {format_value(new)}" for key, (old, new) in changed.items()
    )


def run_tune(args: argparse.Namespace) -> int:
    """`poolmon tune NAME [KEY=VALUE ...] [--show] [--json]`."""
    path: Path = resolve_socket(args.name)
    pairs: list[str] = list(args.assignments or [])
    if args.show or not pairs:
        with connect(path, read_only=True) as client:
            specs = fetch_settings(client)
            name = client.welcome.pool if client.welcome else str(path)
        if args.json:
            print(json.dumps({"pool": name, "settings": [s.to_wire() for s in specs]}, indent=2))
        else:
            print(format_settings(name, specs))
        return 0
    with connect(path, read_only=False) as client:
        values = parse_assignments(fetch_settings(client), pairs)
        reply = client.command("set", {"settings": values}, timeout_s=30)
    if not reply.ok:
        raise Refusal(reply.reason)
    changed = dict(reply.result.get("changed") or {})
    if args.json:
        print(json.dumps({"changed": changed}, indent=2))
    else:
        print(format_changes(changed))
    return 0
