"""Fixtures for the alert service tests: real pools with a short rule file, short socket paths."""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
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

_names = itertools.count(1)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short folder for sockets (a Unix socket path has at most 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="pma", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    return path


@pytest.fixture
def make_pool(short_dir: Path, rules_file: Path, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Start real pools (2 workers, own endpoint) alerting with `RULES`; shut down at the end."""
    from poolmon.runtime.pool import Pool
    from poolmon.runtime.telemetry import Telemetry

    pools: list[Any] = []

    def make(name: str | None = None, **kwargs: Any) -> Any:
        name = name or f"alerting-{next(_names)}"
        kwargs.setdefault("telemetry", Telemetry())
        kwargs.setdefault("monitor", str(short_dir / f"{name}.sock"))
        kwargs.setdefault("alerts", str(rules_file))
        kwargs.setdefault("alert_state_dir", str(tmp_path / "state" / name))
        pool = Pool(2, name=name, **kwargs)
        pools.append(pool)
        assert pool.wait_ready(30)
        return pool

    yield make
    for pool in pools:
        pool.shutdown(wait=True)


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
