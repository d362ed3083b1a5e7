"""Parsing [notify] and [[channels]]: defaults, every setting, and errors with file:line."""

from __future__ import annotations

import pytest
from notify_helpers import parse_text

from poolmon.core.alerts.model import Matcher
from poolmon.core.alerts.notify_config import NotifyConfigError
from poolmon.core.alerts.notify_model import (
    EmailSettings,
    FileSettings,
    NotifyConfig,
    Secret,
    SecretRef,
    Timing,
    WebhookSettings,
)

FULL = """\
[notify]
group_by = ["alertname", "pool", "op"]
group_wait = "5s"
group_interval = "2m"
repeat_interval = "5m"
resend_interval = 30

[[channels]]
name = "ops-hook"
kind = "webhook"
url = "https://hooks.example.com/poolmon"
headers = { "X-Team" = "data" }
token_env = "POOLMON_HOOK_TOKEN"
matchers = ["severity=critical", "op=~resize|crop"]
rate_per_minute = 6
burst = 2
max_attempts = 5
backoff_base = "500ms"
backoff_cap = "20s"
timeout = "3s"

[[channels]]
name = "am"
kind = "webhook"
format = "alertmanager"
url = "http://127.0.0.1:9093/"

[[channels]]
name = "mail"
kind = "email"
host = "smtp.example.com"
username = "poolmon"
password_file = "secrets/smtp"
from = "poolmon@example.com"
to = ["ops@example.com", "oncall@example.com"]
subject_prefix = "[etl]"
repeat_interval = "1d"

[[channels]]
name = "journal"
kind = "file"
path = "log/alerts.jsonl"
max_bytes = 4096
backups = 2

[[channels]]
name = "log"
kind = "log"
"""


def test_an_empty_file_gets_the_documented_defaults() -> None:
    config = parse_text("")
    assert config == NotifyConfig()
    assert config.timing == Timing(("alertname", "pool"), 10.0, 60.0, 3600.0)
    assert config.resend_interval_s == 60.0
    assert config.channels == ()


def test_every_setting_is_read() -> None:
    config = parse_text(FULL, "/etc/poolmon/alerts.toml")
    assert config.timing.group_by == ("alertname", "pool", "op")
    assert (config.timing.group_wait_s, config.timing.group_interval_s) == (5.0, 120.0)
    assert config.timing.repeat_interval_s == 360.0  # 5m rounded up to a 2m tick
    assert config.resend_interval_s == 30.0
    hook, am, mail, journal, log = config.channels
    assert hook.settings == WebhookSettings(
        url="https://hooks.example.com/poolmon",
        headers=(("X-Team", "data"),),
        token=SecretRef(env="POOLMON_HOOK_TOKEN"),
    )
    assert hook.matchers == (
        Matcher("severity", "=", "critical"),
        Matcher("op", "=~", "resize|crop"),
    )
    assert (hook.rate.per_minute, hook.rate.burst) == (6.0, 2)
    assert (hook.retry.max_attempts, hook.retry.base_s, hook.retry.cap_s) == (5, 0.5, 20.0)
    assert hook.timeout_s == 3.0
    assert hook.send_resolved
    assert hook.timing == config.timing  # inherited
    assert am.resends
    assert isinstance(am.settings, WebhookSettings)
    assert am.settings.url == "http://127.0.0.1:9093"
    assert isinstance(mail.settings, EmailSettings)
    assert mail.settings.password == SecretRef(file="/etc/poolmon/secrets/smtp")
    assert (mail.settings.port, mail.settings.starttls) == (587, True)
    assert mail.settings.to == ("ops@example.com", "oncall@example.com")
    assert not mail.send_resolved  # Alertmanager's email default
    assert (mail.rate.per_minute, mail.rate.burst) == (10.0, 5)
    assert mail.timing.repeat_interval_s == 86400.0
    assert mail.timing.group_wait_s == 5.0
    assert journal.settings == FileSettings("/etc/poolmon/log/alerts.jsonl", 4096, 2)
    assert log.kind == "log"
    assert log.send_resolved


def test_repeat_interval_is_rounded_up_to_a_multiple_of_group_interval() -> None:
    config = parse_text('[notify]\ngroup_interval = "5m"\nrepeat_interval = "12m"\n')
    assert config.timing.repeat_interval_s == 900.0
    config = parse_text('[notify]\ngroup_interval = "5m"\nrepeat_interval = "1m"\n')
    assert config.timing.repeat_interval_s == 300.0


BROKEN = """\
[notify]
group_wiat = "10s"
repeat_interval = "soon"
resend_interval = [1]

[[channels]]
name = "mail"
kind = "email"
host = "smtp.example.com"
password = "hunter2-do-not-print"
url = "http://x"
from = "poolmon"
to = []

[[channels]]
name = "am"
kind = "webhook"
format = "alertmanager"
url = "ftp://nowhere"
send_resolved = false
headers = { Authorization = "Bearer sekrit-do-not-print" }

[[channels]]
name = "am"
kind = "pager"

[[channels]]
name = "x"
kind = "log"
matchers = ["severity=~(critical"]
rate_per_minute = -1
"""


def test_every_problem_is_reported_with_its_file_and_line() -> None:
    with pytest.raises(NotifyConfigError) as info:
        parse_text(BROKEN, "rules/alerts.toml")
    text = str(info.value)
    problems = info.value.problems
    expected = [
        ("rules/alerts.toml:2:", "unknown setting 'group_wiat'; did you mean 'group_wait'?"),
        ("rules/alerts.toml:3:", "repeat_interval: bad duration 'soon'"),
        ("rules/alerts.toml:4:", "resend_interval: expected a duration like"),
        ("rules/alerts.toml:10:", "never write a secret into the file: use password_env or"),
        ("rules/alerts.toml:11:", "'url' is a webhook setting, not one of kind 'email'"),
        ("rules/alerts.toml:12:", "from must be an address"),
        ("rules/alerts.toml:13:", "to must be a list of addresses"),
        ("rules/alerts.toml:19:", "url must be http://"),
        ("rules/alerts.toml:21:", "secret into the file: set token_header = 'Authorization'"),
        ("rules/alerts.toml:20:", "an alertmanager receiver needs send_resolved = true"),
        ("rules/alerts.toml:25:", "kind must be one of log, file, webhook, email, got 'pager'"),
        ("rules/alerts.toml:30:", "bad regular expression"),
        ("rules/alerts.toml:31:", "rate_per_minute must be a number from 0 to"),
    ]
    for where, what in expected:
        assert any(p.startswith(where) and what in p for p in problems), (where, what, text)
    assert "do-not-print" not in text  # secrets written into the file are never echoed


def test_duplicate_channel_names_are_refused() -> None:
    text = '[[channels]]\nname = "a"\nkind = "log"\n\n[[channels]]\nname = "a"\nkind = "log"\n'
    with pytest.raises(NotifyConfigError, match=r"x.toml:6: channel name 'a' is used twice"):
        parse_text(text, "x.toml")


def test_credentials_in_a_url_are_refused() -> None:
    text = '[[channels]]\nname = "a"\nkind = "webhook"\nurl = "https://u:pw-do-not-print@h/x"\n'
    with pytest.raises(NotifyConfigError) as info:
        parse_text(text, "x.toml")
    assert "x.toml:4:" in str(info.value)
    assert "do-not-print" not in str(info.value)


def test_auth_without_starttls_is_refused_off_loopback() -> None:
    text = (
        '[[channels]]\nname = "m"\nkind = "email"\nhost = "smtp.example.com"\nstarttls = false\n'
        'username = "u"\npassword_env = "P"\nfrom = "a@b.c"\nto = ["d@e.f"]\n'
    )
    with pytest.raises(NotifyConfigError, match=r"x\.toml:5: AUTH without starttls"):
        parse_text(text, "x.toml")
    config = parse_text(text.replace("smtp.example.com", "127.0.0.1"), "x.toml")
    assert config.channels[0].settings == EmailSettings(
        host="127.0.0.1",
        to=("d@e.f",),
        from_addr="a@b.c",
        port=25,
        starttls=False,
        username="u",
        password=SecretRef(env="P"),
    )


def test_secrets_never_print() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert "hunter2" not in f"{secret} {secret!r} {[secret]}"
    assert secret.reveal() == "hunter2"
