"""Alerting inside real pools: a failing operation fires, acks reach every monitor, refusals."""

from __future__ import annotations

import os
import pwd
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alert_runtime_helpers import fire, wait_until

from poolmon.core import catalog as cat
from poolmon.core.alerts.model import AlertsView
from poolmon.core.protocol import Batch, HistoryEnd
from poolmon.runtime.alerting.cli import format_alerts
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.telemetry import Telemetry
from poolmon.testing import capture_events

pytestmark = pytest.mark.integration

ME = pwd.getpwuid(os.getuid()).pw_name


def _state_events(
    client: MonitorClient, until: Callable[[AlertsView], bool], timeout: float
) -> AlertsView:
    """Read the client's stream until a poolmon.alert.state whose view satisfies `until`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = client.recv(0.1)
        if not isinstance(frame, Batch):
            continue
        for _, event in frame.events:
            if event.name == cat.ALERT_STATE:
                view = AlertsView.from_wire(event.metadata["view"])
                assert event.measurements["revision"] == view.revision
                if until(view):
                    return view
    raise AssertionError(f"no poolmon.alert.state matching within {timeout}s")


def test_a_failing_operation_fires_and_an_ack_reaches_a_second_monitor(
    make_pool: Callable[..., Any],
) -> None:
    pool = make_pool()
    sock = pool.monitor
    alert = fire(pool, "parse")
    assert alert.severity == "critical"
    assert alert.value == 1.0
    assert alert.label_map["pool"] == pool.name
    with (
        MonitorClient(sock, events=("poolmon.alert",), tasks=False, history=False) as watcher,
        MonitorClient(sock, tasks=False, history=False) as actor,
    ):
        # the watcher has the firing alert from the periodic state events (every <= 5 s)
        _state_events(watcher, lambda v: v.by_id(alert.id) is not None, 8)
        started = time.monotonic()
        reply = actor.command("ack_alert", {"alert_id": alert.id, "comment": "on it"})
        assert reply.ok, reply.reason
        assert reply.result == {"alert_id": alert.id, "by": ME}
        seen = _state_events(
            watcher, lambda v: (a := v.by_id(alert.id)) is not None and a.ack is not None, 2.5
        )
        assert time.monotonic() - started < 2.5
        acked = seen.by_id(alert.id)
        assert acked is not None
        assert acked.ack is not None
        assert (acked.ack.by, acked.ack.comment, acked.display_state) == (ME, "on it", "acked")
        # the same alert over the read command, from the actor's side
        view = AlertsView.from_wire(actor.command("alerts").result["view"])
        assert view.by_id(alert.id).ack.by == ME  # type: ignore[union-attr]


def test_acks_and_refusals_are_control_command_events(make_pool: Callable[..., Any]) -> None:
    tel = Telemetry()
    with capture_events("poolmon", telemetry=tel, tasks=False) as captured:
        pool = make_pool(telemetry=tel)
        alert = fire(pool, "load")
        with MonitorClient(pool.monitor, read_only=True, tasks=False, history=False) as ro:
            for name, args in (
                ("ack_alert", {"alert_id": alert.id}),
                ("silence", {"matchers": [["op", "=", "load"]], "duration_s": 60}),
                ("unsilence", {"silence_id": "s1"}),
            ):
                reply = ro.command(name, args)
                assert not reply.ok
                assert "read-only" in reply.reason
            read = ro.command("alerts", {"history": True})
            assert read.ok
            assert set(read.result) == {"view", "history"}
        with MonitorClient(pool.monitor, tasks=False, history=False) as rw:
            unknown = rw.command("ack_alert", {"alert_id": "nope"})
            assert not unknown.ok
            assert "nope" in unknown.reason
            assert rw.command("ack_alert", {"alert_id": alert.id, "by": "mallory"}).ok
        (ack,) = captured.wait_for(cat.ALERT_ACK)
        assert ack.metadata == {"pool": pool.name, "alert_id": alert.id, "by": ME}
        results = [
            (e.metadata["command"], e.metadata["result"]) for e in captured.of(cat.CONTROL_COMMAND)
        ]
    assert results == [
        ("ack_alert", "refused"),
        ("silence", "refused"),
        ("unsilence", "refused"),
        ("ack_alert", "refused"),
        ("ack_alert", "ok"),
    ]
    assert pool.alerting.view.by_id(alert.id).ack.by == ME  # not "mallory": from the socket


def test_silence_marks_without_hiding_and_unsilence_ends_it(make_pool: Callable[..., Any]) -> None:
    pool = make_pool()
    alert = fire(pool, "store")
    with MonitorClient(pool.monitor, tasks=False, history=False) as client:
        bad = client.command("silence", {"matchers": [["op", "=~", "("]], "duration_s": 60})
        assert not bad.ok
        assert "regular expression" in bad.reason
        assert not client.command("silence", {"matchers": [], "duration_s": 60}).ok
        assert not client.command(
            "silence", {"matchers": [["op", "=", "store"]], "duration_s": -5}
        ).ok
        matchers = [["alertname", "=", "OpFailing"], ["op", "=~", "st.*"]]
        made = client.command("silence", {"matchers": matchers, "duration_s": 900})
        assert made.ok, made.reason
        sid = made.result["silence_id"]
        assert made.result["ends_at_ns"] > time.time_ns() + 890 * 10**9
        view = pool.alerting.view
        (silence,) = view.silences
        assert (silence.id, silence.created_by) == (sid, ME)
        marked = view.by_id(alert.id)
        assert marked is not None
        assert marked.display_state == "silenced"
        assert marked.silenced_by == (sid,)
        assert client.command("unsilence", {"silence_id": sid}).result == {"silence_id": sid}
        again = client.command("unsilence", {"silence_id": sid})
        assert not again.ok
        assert sid in again.reason
    view = pool.alerting.view
    assert view.silences == ()
    assert view.by_id(alert.id).display_state == "firing"  # type: ignore[union-attr]


CRASHY = """
[[rules]]
name = "Crashy"
kind = "threshold"
metric = "worker_exits"
by = "worker"
window = "1m"
op = ">="
value = 3
"""


def test_a_rule_that_raises_is_disabled_and_reported(
    make_pool: Callable[..., Any], rules_file: Path
) -> None:
    rules_file.write_text(rules_file.read_text() + CRASHY)
    tel = Telemetry()
    with capture_events(cat.ERROR, telemetry=tel, tasks=False) as captured:
        pool = make_pool(telemetry=tel)
        service = pool.alerting
        agg = service.endpoint.insight.aggregator
        rows = wait_until(lambda: list(agg.workers.rows.values()), what="worker rows")
        rows[0].exits = None  # a bug elsewhere: reading this worker's exits now raises
        (report,) = captured.wait_for(
            cat.ERROR, lambda e: e.metadata["category"] == "alerts", timeout=10
        )
        assert report.metadata["severity"] == "error"
        assert "'Crashy' disabled" in report.metadata["message"]
        assert "TypeError" in report.metadata["message"]
        fire(pool, "parse")  # the other rule keeps running
    (disabled,) = service.view.disabled
    assert disabled.rule == "Crashy"
    assert "disabled: Crashy" in format_alerts(service.view, time.time_ns()).splitlines()[0]


DEAD_WEBHOOK = """
[notify]
group_wait = "0s"

[[channels]]
name = "nobody-listens"
kind = "webhook"
url = "http://127.0.0.1:{port}/hook"
max_attempts = 1
timeout = "1s"
"""


def test_lost_notifications_are_counted_in_the_view_and_reported(
    make_pool: Callable[..., Any], rules_file: Path
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rules_file.write_text(rules_file.read_text() + DEAD_WEBHOOK.replace("{port}", str(port)))
    tel = Telemetry()
    with capture_events(cat.ERROR, telemetry=tel, tasks=False) as captured:
        pool = make_pool(telemetry=tel)
        fire(pool, "parse")
        (report,) = captured.wait_for(
            cat.ERROR, lambda e: e.metadata["category"] == "alerts", timeout=15
        )
    assert report.metadata["severity"] == "warning"
    assert "nobody-listens" in report.metadata["message"]
    view = wait_until(lambda: pool.alerting.view.notifications_dropped and pool.alerting.view)
    assert view.notifications_dropped == 1


def test_a_monitor_attaching_late_gets_the_alert_state_from_history(
    make_pool: Callable[..., Any],
) -> None:
    pool = make_pool()
    alert = fire(pool, "late")
    time.sleep(0.5)  # the firing view's event is in the endpoint's history by now
    with MonitorClient(pool.monitor, events=("poolmon.alert",), tasks=False) as late:
        backfill: list[AlertsView] = []
        while not isinstance(frame := late.recv(5), HistoryEnd):
            assert frame is not None, "no HISTORY_END"
            if isinstance(frame, Batch):
                backfill += [
                    AlertsView.from_wire(e.metadata["view"])
                    for _, e in frame.events
                    if e.name == cat.ALERT_STATE
                ]
    assert backfill, "the backfill held no poolmon.alert.state"
    assert backfill[-1].by_id(alert.id) is not None
    assert backfill[-1].pool == pool.name
