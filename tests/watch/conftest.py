"""Fixtures for the watcher tests: a private socket folder, real pools, a scrape helper."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from poolmon import Pool
from poolmon.runtime.endpoint.paths import socket_dir


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's own socket folder (short enough for AF_UNIX), as $XDG_RUNTIME_DIR/poolmon."""
    path = Path(tempfile.mkdtemp(prefix="pmw", dir="/tmp"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(path))
    assert socket_dir() == path / "poolmon"
    yield path / "poolmon"
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_pool(runtime_dir: Path) -> Iterator[Callable[[str], Pool]]:
    """Start real pools (2 workers, no alerting) in the test's folder; shut them down after."""
    pools: list[Pool] = []

    def make(name: str) -> Pool:
        pool = Pool(2, name=name, alerts=False)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.shutdown(wait=True)
