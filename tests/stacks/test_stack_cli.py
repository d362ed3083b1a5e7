"""`poolmon stack` against a real pool over its endpoint: one worker, --all, --json, refusals."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator

import pytest
import stack_test_tasks as t

from poolmon.cli import main
from poolmon.runtime.endpoint.paths import socket_dir
from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry

pytestmark = pytest.mark.integration


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pool]:
    """A 2-worker pool serving a private socket folder, one worker stuck in time.sleep."""
    with tempfile.TemporaryDirectory(prefix="pms", dir="/tmp") as path:
        monkeypatch.setenv("XDG_RUNTIME_DIR", path)
        p = Pool(2, name="clistack", monitor=True, telemetry=Telemetry())
        assert p.wait_ready(20)
        assert (socket_dir() / "clistack.sock").exists()
        fut = p.submit(t.sleeper, 2)
        deadline = time.monotonic() + 20
        while not any(w.current_op == "sleeper" for w in p.stats().workers):
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.01)
        yield p
        fut.result(20)
        p.shutdown()


def _busy(pool: Pool) -> int:
    return next(w.worker_id for w in pool.stats().workers if w.current_op == "sleeper")


def test_one_worker_text_and_json(pool: Pool, capsys: pytest.CaptureFixture[str]) -> None:
    wid = _busy(pool)
    assert main(["stack", "clistack", str(wid), "--method", "inprocess"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"worker {wid} (pid ")
    assert "stack from inprocess" in out[0]
    assert out[1].startswith("limits: in-worker dumper")
    assert out[2].startswith("task ")
    assert "op sleeper" in out[2]
    assert out[3] == "args (2,)"
    assert out[4] == f"  {t.__file__}:12 in sleeper"
    assert "STUCK-SLEEP" in out[5]

    assert main(["stack", "clistack", str(wid), "--json"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["frames"][0][2] == "sleeper"
    assert reply["producer"] in ("pyspy", "inprocess")


def test_all_workers(pool: Pool, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stack", "clistack", "--all", "--json"]) == 0
    replies = json.loads(capsys.readouterr().out)
    assert sorted(r["worker_id"] for r in replies) == sorted(
        w.worker_id for w in pool.stats().workers
    )
    idle = [r for r in replies if r["task_id"] is None]
    busy = [r for r in replies if r["task_id"] is not None]
    assert len(busy) == 1
    assert len(idle) == 1
    assert busy[0]["frames"][0][2] == "sleeper"


def test_refusals(pool: Pool, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stack", "clistack", "9999"]) == 2
    assert "no live worker with id 9999" in capsys.readouterr().err
    assert main(["stack", "clistack"]) == 2
    assert "give a WORKER_ID" in capsys.readouterr().err
