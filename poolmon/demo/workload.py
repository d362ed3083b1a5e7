"""The demo's task functions: what a real, slightly misbehaving service would run.

Module-level functions (workers import them by name). Each sleeps and/or burns CPU for a
realistic, noisy time; some fail with a few error types at known rates; `warm_cache` leaks
memory in whichever worker runs it (sessions pin it to one worker, so one worker grows), and
`flaky_native` occasionally kills its own process, as a crashing C extension would.
"""

from __future__ import annotations

import os
import random
import signal
import time

_LEAKED: list[bytes] = []


def _busy(seconds: float) -> None:
    """Burn CPU for about `seconds` (a mix of CPU and sleep is what real tasks look like)."""
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1


def resize_image(size_kb: int, slow: float = 1.0) -> int:
    """Fast and CPU-bound: about 1-3 ms."""
    _busy(random.lognormvariate(-6.2, 0.35) * slow)
    return size_kb // 2


def score_model(features: int, slow: float = 1.0) -> float:
    """Medium: about 15-25 ms, half CPU; 1 % fail with ValueError."""
    _busy(random.lognormvariate(-4.9, 0.4) * slow / 2)
    time.sleep(random.lognormvariate(-4.9, 0.4) * slow / 2)
    if random.random() < 0.01:
        raise ValueError(f"feature vector of length {features} has NaNs")
    return features * 0.5


def fetch_profile(user_id: int, slow: float = 1.0) -> dict[str, int]:
    """IO-bound and flaky: about 0.5 ms; 2 % TimeoutError, 1 % ConnectionError."""
    time.sleep(random.lognormvariate(-7.6, 0.8) * slow)
    r = random.random()
    if r < 0.02:
        raise TimeoutError(f"profile service did not answer for user {user_id}")
    if r < 0.03:
        raise ConnectionError("profile service reset the connection")
    return {"user": user_id}


def render_report(pages: int, slow: float = 1.0) -> int:
    """Slow: about 100-150 ms; 2 % fail with KeyError."""
    time.sleep(random.lognormvariate(-2.1, 0.3) * slow)
    if random.random() < 0.02:
        raise KeyError(f"template for page {pages} missing")
    return pages


def warm_cache(key: int) -> int:
    """Keeps 64 KiB per call for ever: the slowly leaking worker (pinned by its session)."""
    _LEAKED.append(os.urandom(64 * 1024))
    return len(_LEAKED)


def flaky_native(n: int) -> int:
    """Kills its own worker process (SIGKILL), as a crashing native library would."""
    os.kill(os.getpid(), signal.SIGKILL)
    return n  # pragma: no cover - never reached
