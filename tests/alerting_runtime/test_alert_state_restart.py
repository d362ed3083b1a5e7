"""Alert state across pool restarts: kept when good, set aside (never fatal) when corrupted."""

from __future__ import annotations

import json
import logging
import os
import pwd
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alert_runtime_helpers import fire

from poolmon.core import catalog as cat
from poolmon.runtime.alerting.state_file import FILE_NAME
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.telemetry import Telemetry
from poolmon.testing import capture_events

pytestmark = pytest.mark.integration


def test_acks_silences_and_history_survive_a_restart(
    make_pool: Callable[..., Any], tmp_path: Path
) -> None:
    state_dir = tmp_path / "kept"
    first = make_pool("restarted", alert_state_dir=str(state_dir))
    alert = fire(first, "parse")
    with MonitorClient(first.monitor, tasks=False, history=False) as client:
        assert client.command("ack_alert", {"alert_id": alert.id, "comment": "mine"}).ok
        made = client.command(
            "silence", {"matchers": [["op", "=", "parse"]], "duration_s": 3600, "comment": "x"}
        )
        assert made.ok
    sid = made.result["silence_id"]
    first.shutdown(wait=True)
    saved = json.loads((state_dir / FILE_NAME).read_text())
    assert saved["pool"] == "restarted"
    assert [s["id"] for s in saved["engine"]["silences"]] == [sid]

    second = make_pool("restarted", alert_state_dir=str(state_dir))
    view = second.alerting.view
    assert second.alerting.restore_problem == ""
    assert [s.id for s in view.silences] == [sid]
    kept = view.by_id(alert.id)  # still active, or resolved since (no failures after restart)
    if kept is None:
        kept = next(a for a in second.alerting.engine.history() if a.id == alert.id)
    assert kept.ack is not None
    assert (kept.ack.by, kept.ack.comment) == (pwd.getpwuid(os.getuid()).pw_name, "mine")


def test_a_corrupted_state_file_means_a_clean_start_with_a_warning(
    make_pool: Callable[..., Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state_dir = tmp_path / "bad"
    state_dir.mkdir()
    (state_dir / FILE_NAME).write_text('{"format": 1, "engine": {"version": 1, "active": 7}}')
    tel = Telemetry()
    with (
        caplog.at_level(logging.WARNING, logger="poolmon.alerts"),
        capture_events(cat.ERROR, telemetry=tel, tasks=False) as captured,
    ):
        pool = make_pool("corrupted", alert_state_dir=str(state_dir), telemetry=tel)
        (warning,) = [e for e in captured.of(cat.ERROR) if e.metadata["category"] == "alerts"]
    assert warning.metadata["severity"] == "warning"
    assert "starting clean" in warning.metadata["message"]
    assert "not restored" in caplog.text
    aside = [p.name for p in state_dir.iterdir() if p.name.startswith(f"{FILE_NAME}.corrupt-")]
    assert len(aside) == 1
    assert pool.alerting.restore_problem
    alert = fire(pool, "parse")  # alerting works after the clean start
    assert alert.ack is None


def test_garbage_bytes_are_set_aside_too(make_pool: Callable[..., Any], tmp_path: Path) -> None:
    state_dir = tmp_path / "garbage"
    state_dir.mkdir()
    (state_dir / FILE_NAME).write_bytes(b"\x00\xff not json at all")
    pool = make_pool("garbage", alert_state_dir=str(state_dir))
    assert "not valid JSON" in pool.alerting.restore_problem
    assert not (state_dir / FILE_NAME).exists()
    fire(pool, "parse")
    pool.shutdown(wait=True)
    saved = json.loads((state_dir / FILE_NAME).read_text())  # a good file again
    assert saved["engine"]["active"]


def test_a_state_folder_that_cannot_be_written_is_reported_once_and_alerting_goes_on(
    make_pool: Callable[..., Any], tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the state folder should be")
    tel = Telemetry()
    with capture_events(cat.ERROR, telemetry=tel, tasks=False) as captured:
        pool = make_pool("unwritable", alert_state_dir=str(blocked), telemetry=tel)
        fire(pool, "parse")
        fire(pool, "load")
        captured.wait_for(cat.ERROR, lambda e: "not saved" in e.metadata["message"], timeout=10)
        pool.shutdown(wait=True)
    notes = [e.metadata for e in captured.of(cat.ERROR) if e.metadata["category"] == "alerts"]
    assert all(n["severity"] == "warning" for n in notes)
    assert "not restored" in notes[0]["message"]  # reading it failed too: a clean start
    saves = [n for n in notes if "alert state not saved" in n["message"]]
    assert len(saves) == 1  # the same cause is said once, not at every save
