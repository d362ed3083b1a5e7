"""The advisor and auto-tuner inside a real pool: commands over the socket, events, the CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from poolmon import Pool
from poolmon.bench.tasks import sleepy
from poolmon.cli import main
from poolmon.core import catalog as C
from poolmon.core.advisor.autotune import AutotuneConfig
from poolmon.core.errors import ConfigError
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.telemetry import DEFAULT_TELEMETRY


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[tuple[Pool, Path, list[dict[str, Any]]]]:
    sock = tmp_path / "p.sock"
    decisions: list[dict[str, Any]] = []
    name = f"advisor-rt-{time.monotonic_ns()}"

    def seen(_n: str, m: Any, md: Any) -> None:
        if md.get("pool") == name:
            decisions.append({**md["decision"], "enabled": m["enabled"]})

    DEFAULT_TELEMETRY.attach("test.advisor", C.AUTOTUNE_DECISION, seen)
    try:
        with Pool(2, name=name, monitor=str(sock)) as p:
            p.wait_ready(30)
            for f in [p.submit(sleepy, 0.001) for _ in range(20)]:
                f.result(10)
            yield p, sock, decisions
    finally:
        DEFAULT_TELEMETRY.detach("test.advisor")


def wait_for(cond: Any, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_advise_command_and_autotune_toggle(pool: tuple[Pool, Path, list[Any]]) -> None:
    p, sock, decisions = pool
    with MonitorClient(sock, client="test") as c:
        c.connect(subscribe=False)
        advice = c.command("advise")
        assert advice.ok, advice.reason
        assert isinstance(advice.result["findings"], list)
        assert advice.result["autotune"]["enabled"] is False
        on = c.command("autotune", {"enabled": True})
        assert on.ok, on.reason
        assert on.result == {"enabled": True}
        assert c.command("autotune_status").result["enabled"] is True
        bad = c.command("autotune", {"enabled": "yes"})
        assert not bad.ok
        assert "true or false" in bad.reason
    wait_for(lambda: any(d["kind"] == "enabled" for d in decisions))
    # a person resizes: auto-tuning notices within a second and pauses
    p.resize(3)
    wait_for(lambda: any(d["kind"] == "paused" for d in decisions))
    paused = next(d for d in decisions if d["kind"] == "paused")
    assert "resize by user" in paused["reason"]
    assert p.size == 3


def test_read_only_monitors_may_ask_but_not_toggle(pool: tuple[Pool, Path, list[Any]]) -> None:
    _, sock, _ = pool
    with MonitorClient(sock, client="test", read_only=True) as c:
        c.connect(subscribe=False)
        assert c.command("advise").ok
        refused = c.command("autotune", {"enabled": True})
        assert not refused.ok
        assert "read-only" in refused.reason


def test_poolmon_advise_prints_findings(
    pool: tuple[Pool, Path, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    p, sock, _ = pool
    assert main(["advise", str(sock)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"pool {p.name}: ")
    assert "auto-tuning off" in out
    assert main(["advise", str(sock), "--json"]) == 0
    assert '"findings"' in capsys.readouterr().out


def test_autotune_needs_the_endpoint_and_a_valid_config() -> None:
    with pytest.raises(ConfigError, match="endpoint"):
        Pool(1, monitor=False, autotune=True)
    with pytest.raises(ConfigError, match="AutotuneConfig"):
        Pool(1, monitor=False, autotune="yes")  # type: ignore[arg-type]
    assert AutotuneConfig(max_size=4).max_size == 4
