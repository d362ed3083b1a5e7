"""A pool's channels end to end: a missing secret fails `Pool()`, and working channels deliver.

Real pools, a real HTTP receiver on loopback for the webhook and the Alertmanager channels, a
real file for the file channel.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import pytest
from notify_helpers import http_sink, wait_for

from poolmon.core.errors import ConfigError
from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry

pytestmark = pytest.mark.integration

VAR = "POOLMON_TEST_RVD_HOOK_TOKEN"

ALERTS = """\
[[rules]]
name = "TaskFailed"
kind = "threshold"
metric = "tasks_failed"
window = "10s"
op = ">"
value = 0
for = "0s"

[notify]
group_wait = "0s"
group_interval = "1s"

[[channels]]
name = "ops"
kind = "webhook"
url = "{hook}"
token_env = "{var}"

[[channels]]
name = "journal"
kind = "file"
path = "alerts.jsonl"

[[channels]]
name = "am"
kind = "webhook"
format = "alertmanager"
url = "{am}"
"""


def test_a_missing_token_fails_the_pool_naming_it_and_once_set_every_channel_delivers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from poolmon.bench.tasks import fail

    monkeypatch.delenv(VAR, raising=False)
    with http_sink() as hook, http_sink() as am:
        path = tmp_path / "rules.toml"
        path.write_text(ALERTS.format(hook=hook.url, am=f"http://127.0.0.1:{am.port}", var=VAR))
        threads = set(threading.enumerate())
        children = set(multiprocessing.active_children())
        with pytest.raises(ConfigError) as info:
            Pool(2, name="rvd", alerts=path, telemetry=Telemetry())
        assert (
            str(info.value)
            == f"channel 'ops': token: environment variable {VAR} is not set or empty"
        )
        assert set(threading.enumerate()) <= threads  # nothing started, nothing left behind
        assert set(multiprocessing.active_children()) <= children

        monkeypatch.setenv(VAR, "tok-rvd")
        pool = Pool(2, name="rvd", alerts=path, telemetry=Telemetry())
        try:
            with pytest.raises(ValueError, match="boom"):
                pool.submit(fail, "boom").result(30)
            wait_for(
                lambda: hook.received and am.received, 20, "the webhook and Alertmanager POSTs"
            )
            journal = tmp_path / "alerts.jsonl"
            wait_for(lambda: journal.exists() and journal.read_text(), 10, "the file channel")
        finally:
            pool.shutdown(wait=True)
    assert hook.received[0].headers["Authorization"] == "Bearer tok-rvd"
    assert hook.received[0].body["alerts"][0]["alertname"] == "TaskFailed"
    assert am.received[0].path == "/api/v2/alerts"
    assert am.received[0].body[0]["labels"]["alertname"] == "TaskFailed"
    first = json.loads(journal.read_text().splitlines()[0])
    assert (first["channel"], first["title"]) == ("journal", "[FIRING:1] TaskFailed pool=rvd")
