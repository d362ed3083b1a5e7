"""Fixtures for the watcher tests: a private socket folder, real pools, a scrape helper."""

from __future__ import annotations

import shutil
import tempfile
import time
import urllib.request
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


def scrape(url: str, accept: str | None = None) -> tuple[str, str]:
    """GET /metrics: (content type, body)."""
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers["Content-Type"], resp.read().decode()


def wait_for(predicate: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Poll until `predicate()` holds; fail the test with the timeout otherwise."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        time.sleep(0.05)


def sample(body: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a text exposition (labels must match exactly those given)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None
