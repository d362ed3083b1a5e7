"""Helpers for the alert service tests (a uniquely named module: `conftest` is ambiguous).

`RULES` is the short rule file the pools of these tests alert with; `fire` makes an operation
fail once and waits for its alert to fire.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from poolmon.core.alerts.model import FIRING, Alert

RULES = """\
# Fires as soon as one task of an operation failed in the last 10 s (for = 0).
[[rules]]
name = "OpFailing"
kind = "threshold"
metric = "error_rate"
by = "op"
window = "10s"
op = ">"
value = 0
for = "0s"
severity = "critical"
annotations = { summary = "{labels.op} is failing" }
"""


def wait_until(condition: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll `condition` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        got = condition()
        if got:
            return got
        assert time.monotonic() < deadline, f"not within {timeout}s: {what or condition}"
        time.sleep(0.05)


def fire(pool: Any, op: str = "parse") -> Alert:
    """Make operation `op` fail once in `pool` and wait until its alert fires; return it."""
    from poolmon.bench.tasks import fail

    with pytest.raises(ValueError, match="boom"):
        pool.options(op=op).submit(fail, "boom").result(30)

    def firing() -> Alert | None:
        service = pool.alerting
        for alert in service.view.alerts if service is not None else ():
            if (alert.rule, alert.label_map.get("op"), alert.state) == ("OpFailing", op, FIRING):
                return alert
        return None

    alert: Alert = wait_until(firing, what=f"OpFailing{{op={op}}} firing")
    return alert
