"""Helpers for the watcher tests: scrape /metrics, poll for a condition, read one sample."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable


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
