"""poolmon.toml as the commands and Pool() read it: discovery, show/check, and where it applies."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from poolmon import Pool
from poolmon.app.launch import app_settings
from poolmon.cli import main
from poolmon.core.errors import ConfigError
from poolmon.runtime import config
from poolmon.runtime.endpoint.paths import socket_dir


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test in an empty folder, with its own XDG_CONFIG_HOME and no POOLMON_* set."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    for var in [v for v in os.environ if v.startswith("POOLMON_")]:
        monkeypatch.delenv(var)
    config.use_file(None)
    yield
    config.use_file(None)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.load().file is None
    user = write(tmp_path / "xdg" / "poolmon" / "poolmon.toml", "[app]\nrefresh = 1\n")
    assert config.load().file == str(user)
    here = write(Path.cwd() / "poolmon.toml", "[app]\nrefresh = 2\n")
    eff = config.load()
    assert (eff.file, eff.found_by, eff.get("app", "refresh")) == (
        str(here),
        "current folder",
        2.0,
    )
    named = write(tmp_path / "named.toml", "[app]\nrefresh = 3\n")
    monkeypatch.setenv("POOLMON_CONFIG", str(named))
    assert config.load().found_by == "POOLMON_CONFIG"
    flag = write(tmp_path / "flag.toml", "[app]\nrefresh = 5\n")
    eff = config.load(flag)
    assert (eff.found_by, eff.get("app", "refresh")) == ("--config", 5.0)


def test_a_named_file_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"--config names .*missing\.toml, which is not a file"):
        config.load(tmp_path / "missing.toml")
    monkeypatch.setenv("POOLMON_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match="POOLMON_CONFIG names"):
        config.load()


def test_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    f = write(tmp_path / "etc" / "poolmon.toml", '[alerts]\nrules = "rules.toml"\n')
    assert config.load(f).get("alerts", "rules") == str(tmp_path / "etc" / "rules.toml")


def test_edits_are_seen_without_a_restart_of_the_reader(tmp_path: Path) -> None:
    f = write(tmp_path / "p.toml", "[app]\nrefresh = 2\n")
    assert config.load(f).get("app", "refresh") == 2.0
    f.write_text("[app]\nrefresh = 3.5\n# longer\n")
    assert config.load(f).get("app", "refresh") == 3.5


def test_attach_precedence_default_file_env_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = argparse.Namespace(refresh=None, window=None, read_only=None)
    assert app_settings(ns).get("app", "refresh") == 4.0  # default
    write(Path.cwd() / "poolmon.toml", "[app]\nrefresh = 2\n[endpoint]\nread_only = true\n")
    assert app_settings(ns).get("app", "refresh") == 2.0  # file
    assert app_settings(ns).get("endpoint", "read_only") is True
    monkeypatch.setenv("POOLMON_APP_REFRESH", "3")
    assert app_settings(ns).get("app", "refresh") == 3.0  # env over file
    ns = argparse.Namespace(refresh=10.0, window="1h", read_only=False)
    eff = app_settings(ns)
    assert eff.get("app", "refresh") == 10.0  # argument over env
    assert eff.get("endpoint", "read_only") is False  # --no-read-only over the file
    assert eff.setting("app", "window").origin() == "argument --window"


def test_config_show_says_where_each_value_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(Path.cwd() / "poolmon.toml", "[pool]\n\ntask_timeout = 30\n")
    monkeypatch.setenv("POOLMON_APP_THEME", "nord")
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert "(from the current folder)" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("task_timeout"))
    assert "file poolmon.toml:3" in line
    assert "live: poolmon tune POOL task_timeout_s" in line
    theme = next(x for x in out.splitlines() if x.strip().startswith("theme"))
    assert "env POOLMON_APP_THEME" in theme
    assert "needs a restart of the app" in theme
    assert main(["config", "show", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {f"{r['section']}.{r['key']}": r for r in doc["settings"]}
    assert rows["pool.task_timeout"]["value"] == 30
    assert rows["pool.task_timeout"]["where"].endswith("poolmon.toml:3")
    assert rows["app.theme"]["source"] == "env"
    assert rows["pool.min_size"]["source"] == "default"
    assert rows["ssh.command"]["restart"] is False


def test_config_flag_before_or_after_the_verb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write(tmp_path / "other.toml", "[app]\nwindow = '1h'\n")
    for argv in (["--config", str(f), "config", "show", "--json"],
                 ["config", "show", "--json", "--config", str(f)]):  # fmt: skip
        config.use_file(None)
        assert main(argv) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["file"] == str(f)
        assert doc["found_by"] == "--config"


def test_config_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good.toml", "[pool]\nmax_workers = 2\n[app]\nrefresh = 1\n")
    assert main(["config", "check", str(good)]) == 0
    assert "good.toml: ok (2 setting(s))" in capsys.readouterr().out
    bad = write(tmp_path / "bad.toml", "[app]\nrefrsh = 1\n[alerts]\nrules = 'nope.toml'\n")
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml:2: unknown key 'refrsh' in [app]; did you mean 'refresh'?" in err
    rules = write(tmp_path / "r.toml", "[alerts]\nrules = 'rules.toml'\n")
    write(tmp_path / "rules.toml", "[[rules]]\nname = 'x'\nmetrc = 'error_rate'\n")
    assert main(["config", "check", str(rules)]) == 2
    assert "rules.toml:3:" in capsys.readouterr().err


def test_secrets_in_a_file_are_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write(tmp_path / "s.toml", '[watch]\nbasic_auth_password = "hunter2"\n')
    assert main(["config", "check", str(f)]) == 2
    err = capsys.readouterr().err
    assert "s.toml:2: unknown key 'basic_auth_password'" in err
    assert "hunter2" not in err


def test_pool_defaults_from_the_file_and_an_argument_wins(tmp_path: Path) -> None:
    text = "[pool]\nmax_workers = 2\ntask_timeout = 7\nmonitor = false\n"
    write(Path.cwd() / "poolmon.toml", text)
    pool = Pool()
    try:
        assert (pool._cfg.size, pool._cfg.task_timeout, pool._cfg.monitor) == (2, 7.0, False)
    finally:
        pool.shutdown()
    pool = Pool(1, task_timeout=None)
    try:
        assert (pool._cfg.size, pool._cfg.task_timeout) == (1, None)
    finally:
        pool.shutdown()


def test_pool_refuses_a_broken_file_with_its_line() -> None:
    write(Path.cwd() / "poolmon.toml", "[pool]\nmax_workers = 'many'\n")
    with pytest.raises(ConfigError, match=r"poolmon.toml:2: pool.max_workers must be an integer"):
        Pool(monitor=False)


def test_socket_dir_from_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "socks"
    monkeypatch.setenv("POOLMON_ENDPOINT_SOCKET_DIR", str(folder))
    assert socket_dir() == folder
    pool = Pool(1, name="cfgsock")
    try:
        assert (folder / "cfgsock.sock").exists()
    finally:
        pool.shutdown()


def test_set_arguments_win_over_env_and_show_as_arguments(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(Path.cwd() / "poolmon.toml", "[app]\nrefresh = 2\n")
    monkeypatch.setenv("POOLMON_APP_REFRESH", "3")
    argv = ["--set", "app.refresh=6", "config", "show", "--json", "--set", "pool.max_queue=50"]
    assert main(argv) == 0
    rows = {
        f"{r['section']}.{r['key']}": r for r in json.loads(capsys.readouterr().out)["settings"]
    }
    assert rows["pool.max_queue"]["value"] == 50
    assert (rows["app.refresh"]["value"], rows["app.refresh"]["source"]) == (6.0, "argument")
    assert rows["app.refresh"]["where"] == "--set app.refresh"
    assert config.current().get("app", "refresh") == 3.0  # only for that command
    assert main(["config", "show", "--set", "app.refesh=1"]) == 2
    assert "no such setting; did you mean 'app.refresh'?" in capsys.readouterr().err
    assert main(["config", "show", "--set", "app.refresh=fast"]) == 2
    assert "app.refresh must be a number from 0.2 to 30, got 'fast'" in capsys.readouterr().err


def test_live_settings_name_real_tuning_keys() -> None:
    from poolmon.core.config.schema import KEYS
    from poolmon.runtime.pool.settings import describe

    pool = Pool(1, monitor=False)
    try:
        tunable = {spec.key for spec in describe(pool)}
    finally:
        pool.shutdown()
    live = {k.live for k in KEYS if k.live}
    assert live <= tunable, live - tunable
