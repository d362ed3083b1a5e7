"""The pure configuration layers: parsing a file, variables, arguments, and their precedence."""

from __future__ import annotations

import pytest

from poolmon.core.config.layers import (
    ConfigFileError,
    defaults,
    merge,
    parse_env,
    parse_file,
)
from poolmon.core.config.schema import KEYS, THEMES
from poolmon.core.config.values import BadValue, check, from_text
from poolmon.core.errors import ConfigError

GOOD = """\
# a comment
[pool]
max_workers = 8
task_timeout = 2.5

[app]
window = "5m"
refresh = 2

[endpoint]
allow_uids = [0, 1000]

[watch]
listen = "[::1]:19464"
pools = ["api", "ssh://ops@db1/jobs"]
"""


def test_file_values_and_their_lines() -> None:
    layer = parse_file(GOOD, "poolmon.toml")
    assert layer[("pool", "max_workers")].value == 8
    assert layer[("pool", "task_timeout")].value == 2.5
    assert layer[("pool", "task_timeout")].where == "poolmon.toml:4"
    assert layer[("app", "window")].where == "poolmon.toml:7"
    assert layer[("endpoint", "allow_uids")].value == (0, 1000)
    assert layer[("watch", "pools")].value == ("api", "ssh://ops@db1/jobs")
    assert all(s.source == "file" for s in layer.values())


def test_a_non_loopback_listen_is_read_as_set_and_refused_only_by_the_watcher() -> None:
    """Every command reads poolmon.toml: a watcher-only setting must not stop a pool or `ls`.

    `poolmon watch` and `config check` refuse it (tests/watch/test_watch_config.py).
    """
    from poolmon.core.config.schema import BY_NAME
    from poolmon.core.config.values import unattended_problem

    key = BY_NAME[("watch", "listen")]
    layer = parse_file('[watch]\nlisten = "0.0.0.0:9464"\n', "p.toml")
    assert layer[("watch", "listen")].value == "0.0.0.0:9464"
    assert parse_env({"POOLMON_WATCH_LISTEN": "10.0.0.5:9464"})
    said = "'10.0.0.5:9464' is not a loopback address: /metrics has no authentication"
    assert said in (unattended_problem(key, "10.0.0.5:9464") or "")
    for ok in ("localhost:9464", "127.0.0.2:9464", "[::1]:9464"):
        assert unattended_problem(key, ok) is None


def test_every_problem_with_its_line_and_a_suggestion() -> None:
    text = '[pool]\nmax_wokers = 4\ntask_timeout = -1\n\n[app]\nwindow = "2m"\n[aps]\nx = 1\n'
    with pytest.raises(ConfigFileError) as info:
        parse_file(text, "p.toml")
    lines = str(info.value).splitlines()
    assert lines == [
        "p.toml:2: unknown key 'max_wokers' in [pool]; did you mean 'max_workers'?",
        "p.toml:3: pool.task_timeout must be a positive number of seconds, got -1",
        "p.toml:6: app.window must be one of '1m', '5m', '15m', '1h', got '2m'",
        "p.toml:7: unknown section [aps]; did you mean 'app'?",
    ]
    assert isinstance(info.value, ConfigError)


def test_toml_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigFileError) as info:
        parse_file("[pool]\nmax_workers = \n", "bad.toml")
    assert str(info.value).startswith("bad.toml:2: TOML:")


def test_sizes_that_cannot_all_hold() -> None:
    with pytest.raises(ConfigFileError, match=r"max_workers \(9\) is above pool.max_size \(4\)"):
        parse_file("[pool]\nmax_workers = 9\nmax_size = 4\n", "p.toml")


def test_secrets_are_never_echoed() -> None:
    text = '[watch]\nauth_token = "hunter2-secret"\n[ssh]\npassword = "hunter2"\n'
    with pytest.raises(ConfigFileError) as info:
        parse_file(text, "p.toml")
    assert "hunter2" not in str(info.value)
    assert "p.toml:2: unknown key 'auth_token' in [watch]" in str(info.value)
    with pytest.raises(ConfigFileError) as info2:
        parse_env({"POOLMON_WATCH_TOKEN": "hunter2"})
    assert "hunter2" not in str(info2.value)
    assert "POOLMON_WATCH_TOKEN" in str(info2.value)


def test_env_text_is_typed_by_the_key() -> None:
    layer = parse_env(
        {
            "POOLMON_POOL_MAX_WORKERS": "3",
            "POOLMON_ENDPOINT_READ_ONLY": "yes",
            "POOLMON_ENDPOINT_ALLOW_UIDS": "0, 1000",
            "POOLMON_WATCH_POOLS": "a,b",
            "POOLMON_SMTP_PASSWORD": "not ours: ignored",
            "POOLMON_CONFIG": "/elsewhere.toml",
            "HOME": "/root",
        }
    )
    assert layer[("pool", "max_workers")].value == 3
    assert layer[("pool", "max_workers")].where == "POOLMON_POOL_MAX_WORKERS"
    assert layer[("endpoint", "read_only")].value is True
    assert layer[("endpoint", "allow_uids")].value == (0, 1000)
    assert layer[("watch", "pools")].value == ("a", "b")
    assert len(layer) == 4


def test_unknown_env_key_in_a_known_section_is_reported_with_a_suggestion() -> None:
    with pytest.raises(ConfigFileError) as info:
        parse_env({"POOLMON_APP_REFRESHH": "2"})
    assert "did you mean 'POOLMON_APP_REFRESH'?" in str(info.value)
    with pytest.raises(ConfigFileError, match=r"POOLMON_APP_REFRESH: app\.refresh must be"):
        parse_env({"POOLMON_APP_REFRESH": "fast"})


def test_precedence_default_file_env_argument() -> None:
    file = parse_file("[app]\nrefresh = 2\nwindow = '5m'\ntheme = 'nord'\n", "f.toml")
    env = parse_env({"POOLMON_APP_REFRESH": "3", "POOLMON_APP_WINDOW": "15m"})
    eff = merge(file, env, "f.toml", "--config").with_arguments(
        {("app", "refresh"): (8.0, "--refresh"), ("app", "window"): (None, "--window")}
    )
    assert eff.setting("app", "refresh").origin() == "argument --refresh"
    assert eff.get("app", "refresh") == 8.0
    assert eff.setting("app", "window").origin() == "env POOLMON_APP_WINDOW"
    assert eff.get("app", "window") == "15m"
    assert eff.setting("app", "theme").origin() == "file f.toml:4"
    assert eff.setting("pool", "task_timeout").origin() == "default"
    assert eff.section("app", set_only=True) == {"refresh": 8.0, "window": "15m", "theme": "nord"}


def test_a_bad_argument_names_its_flag() -> None:
    eff = merge({}, {})
    with pytest.raises(ConfigError, match=r"--refresh: app.refresh must be a number from 0.2"):
        eff.with_arguments({("app", "refresh"): (99.0, "--refresh")})


def test_every_default_is_valid_for_its_key() -> None:
    for key in KEYS:
        if key.default is not None:
            assert check(key, key.default) == key.default, key.dotted
        assert key.env.startswith("POOLMON_")
    assert len(defaults()) == len(KEYS)


def test_values_refused_by_kind() -> None:
    by = {k.dotted: k for k in KEYS}
    with pytest.raises(BadValue, match="true or false"):
        check(by["pool.monitor"], "yes")
    with pytest.raises(BadValue, match="an integer"):
        check(by["pool.max_workers"], 2.5)
    with pytest.raises(BadValue, match="'host:port'"):
        check(by["watch.listen"], "localhost")
    assert check(by["watch.listen"], "[::1]:9464") == "[::1]:9464"
    with pytest.raises(BadValue, match="user ids"):
        from_text(by["endpoint.allow_uids"], "root")


def test_themes_are_textuals() -> None:
    from textual.theme import BUILTIN_THEMES

    assert set(THEMES) == set(BUILTIN_THEMES)
