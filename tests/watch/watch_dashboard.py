"""The Grafana dashboard's PromQL, read from docs/grafana/poolmon.json (test helper)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "poolmon.json"

_VARIABLES = {"$__rate_interval": "5s", "$pool": ".*"}
_METRIC = re.compile(r"\bpoolmon_[a-zA-Z0-9_:]*")


def load() -> dict[str, Any]:
    """The dashboard document."""
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return doc


def expressions(substitute: bool = False) -> list[str]:
    """Every PromQL expression: panel targets and the pool variable's query."""
    doc = load()
    exprs = [t["expr"] for p in doc["panels"] for t in p.get("targets", [])]
    for var in doc["templating"]["list"]:
        if var["type"] == "query":
            query = var["query"]["query"]
            exprs.append(re.sub(r"label_values\((\w+), *\w+\)", r"\1", query))
    if substitute:
        for name, value in _VARIABLES.items():
            exprs = [e.replace(name, value) for e in exprs]
    return exprs


def metric_names(expr: str) -> set[str]:
    """The poolmon series names an expression reads (label values are quoted, so skipped)."""
    unquoted = re.sub(r'"[^"]*"', '""', expr)
    return set(_METRIC.findall(unquoted))
