"""`[watch] listen` and `pools` are read, with the command line on top; a file cannot expose it.

Before, `poolmon watch` ignored both: `listen = "127.0.0.1:19468"` (file, POOLMON_WATCH_LISTEN
or `--set`) still served on 127.0.0.1:9464, `pools = ["rva"]` was not used, and a file's
`listen = "0.0.0.0:19467"` was silently replaced by the default while `config check` said ok.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from watch_helpers import sample, scrape, wait_for

from poolmon import Pool
from poolmon.bench.tasks import ident
from poolmon.cli import main
from poolmon.runtime.telemetry import Telemetry

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder, whose poolmon.toml is the configuration; no POOLMON_* set."""
    for var in [v for v in os.environ if v.startswith("POOLMON_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-user-config"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@contextlib.contextmanager
def _serving(folder: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `poolmon watch ARGS` in its own process while the block runs: its /metrics URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "poolmon", "watch", *args],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "serving http" in line:
                yield line.split("serving ")[1].strip()
                return
        raise AssertionError(f"exited {proc.wait()}: {''.join(lines)}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _url(folder: Path, *args: str, env: dict[str, str] | None = None) -> str:
    with _serving(folder, *args, env=env) as url:
        return url


def test_listen_and_pools_come_from_the_configuration_in_precedence_order(
    make_pool: Callable[[str], Pool], folder: Path
) -> None:
    list(make_pool("cfg").map(ident, range(12)))
    make_pool("other")  # two pools: without [watch] pools a bare `poolmon watch` must ask
    file_port, env_port, set_port, flag_port = (_free_port() for _ in range(4))
    (folder / "poolmon.toml").write_text(
        f'[watch]\nlisten = "127.0.0.1:{file_port}"\npools = ["cfg"]\n'
    )
    with _serving(folder) as url:
        assert url == f"http://127.0.0.1:{file_port}/metrics"
        ok = {"pool": "cfg", "op": "ident", "status": "ok"}
        wait_for(lambda: sample(scrape(url)[1], "poolmon_tasks_total", **ok) == 12)
        body = scrape(url)[1]
    assert sample(body, "poolmon_pool_up", pool="cfg") == 1.0
    assert sample(body, "poolmon_pool_up", pool="other") is None  # not configured: not watched
    env = {"POOLMON_WATCH_LISTEN": f"127.0.0.1:{env_port}"}
    assert _url(folder, env=env) == f"http://127.0.0.1:{env_port}/metrics"
    setting = ["--set", f"watch.listen=127.0.0.1:{set_port}"]
    assert _url(folder, *setting, env=env) == f"http://127.0.0.1:{set_port}/metrics"
    flag = ["--metrics-listen", f"127.0.0.1:{flag_port}"]
    assert _url(folder, *setting, *flag, env=env) == f"http://127.0.0.1:{flag_port}/metrics"


@pytest.fixture
def own_pool(runtime_dir: Path) -> Iterator[Callable[[str], Pool]]:
    """Pools with their own telemetry: each socket serves only its pool's tasks."""
    pools: list[Pool] = []

    def make(name: str) -> Pool:
        pools.append(Pool(2, name=name, alerts=False, telemetry=Telemetry()))
        return pools[-1]

    yield make
    for pool in pools:
        pool.shutdown(wait=True)


def test_names_on_the_command_line_win_over_the_configured_pools(
    own_pool: Callable[[str], Pool], folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    list(own_pool("cfg").map(ident, range(5)))
    list(own_pool("named").map(ident, range(3)))
    (folder / "poolmon.toml").write_text('[watch]\npools = ["cfg"]\n')
    assert main(["watch", "named", "--once", "--json", "--timeout", "15"]) == 0
    rows = json.loads(capsys.readouterr().out)["pools"]
    assert [(r["pool"], r["tasks_total"]) for r in rows] == [("named", 3)]
    assert main(["watch", "--once", "--json", "--timeout", "15"]) == 0
    rows = json.loads(capsys.readouterr().out)["pools"]
    assert [(r["pool"], r["tasks_total"]) for r in rows] == [("cfg", 5)]
    (folder / "poolmon.toml").write_text('[watch]\npools = ["ssh://db1/etl"]\n')
    assert main(["watch", "--once", "--json"]) == 2
    assert "ssh://db1/etl: poolmon watch attaches to pools on this machine only" in (
        capsys.readouterr().err
    )


def test_a_non_loopback_listen_is_refused_unless_typed(
    make_pool: Callable[[str], Pool],
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    list(make_pool("cfg").map(ident, range(4)))
    toml = folder / "poolmon.toml"
    toml.write_text('[watch]\nlisten = "0.0.0.0:19467"\npools = ["cfg"]\n')
    said = "watch.listen '0.0.0.0:19467' is not a loopback address: /metrics has no authentication"
    assert main(["watch", "--once", "--json", "--timeout", "15"]) == 2
    assert f"{toml}:2: {said}" in capsys.readouterr().err
    assert main(["config", "check", str(toml)]) != 0
    out, err = capsys.readouterr()
    assert f"{toml}:2: {said}" in out + err
    assert "ok" not in out
    assert main(["ls", "--json"]) == 0  # a watcher setting does not stop the other commands
    capsys.readouterr()
    toml.write_text('[watch]\npools = ["cfg"]\n')
    monkeypatch.setenv("POOLMON_WATCH_LISTEN", "0.0.0.0:19467")
    assert main(["watch", "--once", "--json"]) == 2
    assert f"POOLMON_WATCH_LISTEN: {said}" in capsys.readouterr().err
    monkeypatch.delenv("POOLMON_WATCH_LISTEN")
    typed = ["--set", "watch.listen=0.0.0.0:19467", "watch", "--once", "--json", "--timeout", "15"]
    assert main(typed) == 0  # typed on the command line: meant
    (row,) = json.loads(capsys.readouterr().out)["pools"]
    assert (row["pool"], row["tasks_total"]) == ("cfg", 4)
