"""--all: a pool that appears is attached, a stale socket is skipped; --once --json; bad input."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from watch_helpers import wait_for

from poolmon import Pool
from poolmon.bench.tasks import ident
from poolmon.cli import main
from poolmon.core.errors import ConfigError
from poolmon.runtime.watch.serve import parse_listen
from poolmon.runtime.watch.watcher import Watcher


def _stale_socket(folder: Path, name: str) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{name}.sock"
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))
    dead.close()  # bound, never listening: what a pool that died leaves behind
    return path


def test_all_attaches_new_pools_and_skips_stale_sockets(
    make_pool: Callable[[str], Pool], runtime_dir: Path
) -> None:
    ghost = _stale_socket(runtime_dir, "ghost")
    notices: list[str] = []
    watcher = Watcher(discover=True, scan_s=0.2, log=notices.append)
    watcher.start()
    try:
        assert ghost in watcher.skipped
        assert watcher.figures() == []
        pool = make_pool("late")
        list(pool.map(ident, range(40)))

        def seen() -> bool:
            figs = watcher.figures()
            return len(figs) == 1 and sum(o.count for o in figs[0].ops) == 40

        wait_for(seen)
        assert watcher.figures()[0].pool == "late"
        assert ghost not in watcher.monitors
        assert any("skipping" in n and "ghost" in n for n in notices)
    finally:
        watcher.stop()


def test_once_json_prints_the_figures(
    make_pool: Callable[[str], Pool], runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = make_pool("cron")
    list(pool.map(ident, range(25)))
    _stale_socket(runtime_dir, "dead")
    assert main(["watch", "--all", "--once", "--json", "--timeout", "15"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (row,) = doc["pools"]
    assert row["pool"] == "cron"
    assert row["state"] == "live"
    assert row["tasks_total"] == 25
    assert row["size"] == 2
    assert doc["skipped_stale_sockets"] == [str(runtime_dir / "dead.sock")]


def test_no_name_watches_the_only_pool(
    make_pool: Callable[[str], Pool], runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As `status` and `attach` do: the docs' `poolmon watch --once --json` works as written."""
    pool = make_pool("solo")
    list(pool.map(ident, range(7)))
    assert main(["watch", "--once", "--json", "--timeout", "15"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["pools"]
    assert (row["pool"], row["tasks_total"]) == ("solo", 7)
    make_pool("duo")
    assert main(["watch", "--once", "--json"]) == 2
    err = capsys.readouterr().err
    assert "2 pools are running" in err
    assert "name one of: duo, solo; or pass --all" in err


def test_bad_arguments_say_why(runtime_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch"]) == 2
    err = capsys.readouterr().err
    assert f"no running pool found in the socket folder {runtime_dir}" in err
    assert "or pass --all" in err
    assert main(["watch", "nosuch", "--once", "--json"]) == 2
    assert "no pool named 'nosuch': looked for nosuch.sock" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="not a loopback"):
        parse_listen("0.0.0.0:9464", explicit=False)
    assert not parse_listen("0.0.0.0:9464", explicit=True).loopback
    assert parse_listen("[::1]:9464", explicit=False).loopback
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_listen("9464", explicit=True)


def test_a_pool_never_reached_has_no_counts_and_is_not_said_attached(
    make_pool: Callable[[str], Pool], runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a stale socket named explicitly printed tasks_total 0, lag_s 0.44, 'attached'."""
    pool = make_pool("alive")
    list(pool.map(ident, range(6)))
    dead = _stale_socket(runtime_dir, "dead")
    alive = runtime_dir / "alive.sock"
    assert main(["watch", str(dead), str(alive), "--once", "--json", "--timeout", "3"]) == 1
    out, err = capsys.readouterr()
    rows = {row["pool"]: row for row in json.loads(out)["pools"]}
    never = rows["dead"]
    assert never["state"] != "live"
    for key in ("lag_s", "pid", "tasks_total", "tasks_cancelled_total", "operations"):
        assert never[key] is None, key
    for key in ("worker_exits_total", "telemetry_dropped_total", "workers", "size"):
        assert never[key] is None, key
    heard = rows["alive"]  # the pool that was reached says its counts, 0 included
    assert (heard["state"], heard["tasks_total"], heard["telemetry_dropped_total"]) == (
        "live",
        6,
        0,
    )
    assert heard["tasks_cancelled_total"] == 0
    assert 0 <= heard["lag_s"] < 2
    assert f"attached to {dead}" not in err
    assert f"could not attach to {dead}" in err
    assert f"attached to {alive} (pid {pool_pid(heard)})" in err


def pool_pid(row: dict[str, object]) -> int:
    pid = row["pid"]
    assert isinstance(pid, int)
    assert pid > 0
    return pid
