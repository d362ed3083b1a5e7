"""The file channel (JSON lines, rotated by size with N backups) and the log channel."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from notify_helpers import T0, make_alert, parse_text, view, wait_for

from poolmon.core.alerts.notify_groups import Notification
from poolmon.core.alerts.notify_model import FileSettings
from poolmon.runtime.alerting.channels.base import DeliveryError
from poolmon.runtime.alerting.channels.file import FileChannel
from poolmon.runtime.alerting.notifier import Notifier


def note(i: int) -> Notification:
    alert = make_alert(id=f"a{i}", labels={"op": f"op{i}"})
    return Notification("journal", "etl", (("alertname", "HighErrorRate"),), (alert,), (), "new",
                        T0 + i)  # fmt: skip


def test_the_file_rotates_by_size_keeping_n_backups(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    channel = FileChannel("journal", FileSettings(str(path), max_bytes=4096, backups=2))
    for i in range(40):
        channel.send(note(i))
    channel.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["alerts.jsonl", "alerts.jsonl.1", "alerts.jsonl.2"]
    ids = []
    for name in ("alerts.jsonl.2", "alerts.jsonl.1", "alerts.jsonl"):
        data = (tmp_path / name).read_bytes()
        assert len(data) <= 4096
        ids += [json.loads(line)["alerts"][0]["id"] for line in data.splitlines()]
    # The newest records, oldest first, none torn or repeated; older ones rotated away.
    assert ids == [f"a{i}" for i in range(40 - len(ids), 40)]
    assert len(ids) < 40


def test_without_backups_the_file_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    channel = FileChannel("journal", FileSettings(str(path), max_bytes=2048, backups=0))
    for i in range(10):
        channel.send(note(i))
    channel.close()
    assert [p.name for p in tmp_path.iterdir()] == ["alerts.jsonl"]
    last = path.read_text().splitlines()[-1]
    assert json.loads(last)["alerts"][0]["id"] == "a9"


def test_an_unwritable_path_is_a_delivery_error(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    channel = FileChannel("journal", FileSettings(str(tmp_path / "blocker" / "alerts.jsonl")))
    with pytest.raises(DeliveryError, match="cannot write"):
        channel.send(note(1))


def test_file_and_log_channels_through_the_notifier(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = (
        '[notify]\ngroup_wait = 0\n\n[[channels]]\nname = "journal"\nkind = "file"\n'
        'path = "alerts.jsonl"\n\n[[channels]]\nname = "log"\nkind = "log"\n'
    )
    config = parse_text(text, str(tmp_path / "rules.toml"))
    caplog.set_level(logging.INFO, logger="poolmon.alerts")
    notifier = Notifier(config, "etl")
    notifier.start()
    try:
        notifier.update(view(make_alert(id="c1", severity="critical", labels={"op": "resize"})))
        wait_for(lambda: notifier.stats()["log"].sent and notifier.stats()["journal"].sent)
    finally:
        assert notifier.stop(5)
    record = json.loads((tmp_path / "alerts.jsonl").read_text())
    assert record["title"] == "[FIRING:1] HighErrorRate pool=etl"
    assert record["alerts"][0]["severity"] == "critical"
    (logged,) = [r for r in caplog.records if r.name == "poolmon.alerts"]
    assert logged.levelno == logging.ERROR  # a critical alert
    assert logged.getMessage().startswith("[FIRING:1] HighErrorRate pool=etl: firing [critical]")
    assert logged.poolmon_notification["alerts"][0]["id"] == "c1"  # type: ignore[attr-defined]
