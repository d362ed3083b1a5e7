"""`poolmon config show` and `poolmon config check FILE`.

`show` answers the two questions an operator has about a setting: what is its value here, and
why (default, `file:line`, which variable, which flag); and what editing it does: a pool or the
app reads most settings when it starts ("needs a restart"), some can be changed in a running
pool by `poolmon tune` (named), and the ssh settings are read by each command. `check` reads one
file as `Pool()` would, including the alert rule file it names, and reports every problem.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from poolmon.core.config.layers import Effective
from poolmon.core.config.schema import BY_NAME, KEYS, SECTIONS, Key, is_secret
from poolmon.core.config.values import to_text, unattended_problem
from poolmon.core.errors import ConfigError
from poolmon.runtime import config


def effect(key: Key) -> str:
    """What changing `key` does to what is already running."""
    if not key.restart:
        return "next command"
    what = {"app": "app", "watch": "watcher"}.get(key.section, "pool")
    text = f"needs a restart of the {what}"
    if key.live:
        text += f", or live: poolmon tune POOL {key.live}=..."
    return text


def show_rows(eff: Effective) -> list[dict[str, Any]]:
    """One row per key: section, key, value (secrets hidden), text, origin, env and effect."""
    rows = []
    for key in KEYS:
        s = eff.setting(key.section, key.name)
        value = s.value
        if isinstance(value, tuple):
            value = list(value)
        rows.append(
            {
                "section": key.section,
                "key": key.name,
                "value": "<hidden>" if is_secret(key.name) else value,
                "text": to_text(key, s.value),
                "source": s.source,
                "where": s.where,
                "env": key.env,
                "restart": key.restart,
                "live": key.live,
                "effect": effect(key),
            }
        )
    return rows


def format_show(eff: Effective) -> str:
    """The human-readable `config show`."""
    head = (
        f"configuration file: {eff.file} (from {_HOW.get(eff.found_by, eff.found_by)})"
        if eff.file
        else "configuration file: none (looked for --config, $POOLMON_CONFIG, ./poolmon.toml, "
        f"{config.user_config_path()})"
    )
    rows = show_rows(eff)
    left = min(40, max(len(f"{r['key']} = {r['text']}") for r in rows))
    mid = max(len(_origin(r)) for r in rows)
    out = [head]
    for section in SECTIONS:
        out.append(f"\n[{section}]")
        for r in rows:
            if r["section"] == section:
                kv = f"{r['key']} = {r['text']}"
                out.append(f"  {kv.ljust(left)}  {_origin(r).ljust(mid)}  {r['effect']}")
    return "\n".join(out)


_HOW = {"current folder": "the current folder", "user configuration folder": "your config folder"}


def _origin(row: dict[str, Any]) -> str:
    """`default`, `file poolmon.toml:3` (the header names the folder), `env VAR`, `argument`."""
    where = row["where"]
    if row["source"] == "file":
        where = os.path.basename(where)
    return row["source"] if not where else f"{row['source']} {where}"


def check_file(path: Path) -> Effective:
    """Read one file as a pool would, and the alert rule file it names (every problem raised).

    Raises:
        ConfigFileError: The file's problems, with lines (a ConfigError).
        ConfigError: The file cannot be read.
    """
    if not path.is_file():
        raise ConfigError(f"{path} is not a file")
    eff = config.load(path, environ={})
    listen = eff.settings.get(("watch", "listen"))
    if listen is not None and listen.source == "file":
        # not a problem for the pool or the app, which never serve /metrics: `watch` refuses it
        refused = unattended_problem(BY_NAME[("watch", "listen")], listen.value)
        if refused:
            raise ConfigError(f"{listen.origin()}: {refused}; poolmon watch would refuse it")
    rules = eff.get("alerts", "rules")
    if rules is not None and eff.get("alerts", "enabled"):
        from poolmon.runtime.alerting.rules_io import load_rule_file

        load_rule_file(rules)  # RuleFileError lists that file's problems with its lines
    return eff


def run_config(args: argparse.Namespace) -> int:
    """`poolmon config show [--json]` / `poolmon config check FILE`."""
    action = getattr(args, "action", None) or "show"
    if action == "check":
        file = getattr(args, "file", None)
        if not file:
            raise ConfigError("config check needs a FILE")
        eff = check_file(Path(file))
        set_here = sum(1 for s in eff.settings.values() if s.source == "file")
        print(f"{file}: ok ({set_here} setting(s))")
        return 0
    if getattr(args, "file", None):
        raise ConfigError("config show takes no FILE; use --config FILE to show another file")
    eff = config.current()
    if getattr(args, "json", False):
        print(
            json.dumps(
                {"file": eff.file, "found_by": eff.found_by or None, "settings": show_rows(eff)},
                indent=2,
            )
        )
    else:
        print(format_show(eff))
    return 0
