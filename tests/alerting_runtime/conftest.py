"""Fixtures for the alert service tests: real pools with a short rule file, short socket paths."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alert_pool_helpers import RULES

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
