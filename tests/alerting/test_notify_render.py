"""What notifications say: titles, the phone-readable text, and both webhook bodies."""

from __future__ import annotations

import json

from notify_helpers import T0, make_alert

from poolmon.core.alerts.model import Ack
from poolmon.core.alerts.notify_groups import Notification
from poolmon.core.alerts.notify_render import (
    alertmanager_body,
    generic_body,
    rfc3339,
    text_body,
    title,
)

GROUP = (("alertname", "HighErrorRate"), ("pool", "etl"))
NOW = T0 + 190 * 10**9


def note(firing: tuple = (), resolved: tuple = (), group: tuple = GROUP) -> Notification:
    return Notification("ops", "etl", group, firing, resolved, "new", NOW)


def test_titles_read_like_alertmanager_subjects() -> None:
    two = (make_alert(id="a"), make_alert(id="b", labels={"op": "crop"}))
    assert title(note(two)) == "[FIRING:2] HighErrorRate pool=etl"
    assert title(note(resolved=two[:1]), "[prod]") == "[prod] [RESOLVED] HighErrorRate pool=etl"
    lone = note((make_alert(labels={"op": "crop"}),), group=())
    assert title(lone) == "[FIRING:1] HighErrorRate op=crop pool=etl severity=warning"


def test_the_text_body_puts_what_matters_first_in_short_lines() -> None:
    acked = make_alert(
        id="a7", labels={"op": "resize"}, severity="critical", ack=Ack("alice", NOW, "on it")
    )
    body = text_body(note((acked,), (make_alert(id="b2", state="resolved"),)))
    lines = body.splitlines()
    assert lines[:3] == ["FIRING: 1", "", "[critical] Error rate of op resize above 5 %"]
    assert "  value 0.12, threshold 0.05, firing for 3m10s" in lines
    assert "  op=resize" in lines
    assert "  acked by alice at 2026-01-01T00:03:10.000Z: on it" in lines
    assert "RESOLVED: 1" in lines
    assert "  value 0.12, threshold 0.05, resolved after 1m" in lines
    assert max(len(line) for line in lines) <= 72


def test_no_data_is_said_not_zeroed() -> None:
    body = text_body(note((make_alert(value=None, threshold=None),)))
    assert "  value no data, firing for 3m10s" in body.splitlines()


def test_generic_body_is_json_with_every_alert() -> None:
    body = generic_body(note((make_alert(id="a", labels={"op": "crop"}),)))
    assert json.loads(json.dumps(body)) == body
    assert body["status"] == "firing"
    assert body["title"] == "[FIRING:1] HighErrorRate pool=etl"
    assert body["group_labels"] == {"alertname": "HighErrorRate", "pool": "etl"}
    (alert,) = body["alerts"]
    assert alert["labels"]["op"] == "crop"
    assert alert["fired_at"] == rfc3339(T0)
    assert alert["resolved_at"] is None


def test_alertmanager_body_sets_ends_at_a_few_resends_ahead_or_at_resolution() -> None:
    firing = make_alert(id="a", labels={"op": "crop", "empty": ""})
    done = make_alert(id="b", state="resolved", resolved_ns=T0 + 100 * 10**9)
    body = alertmanager_body(note((firing,), (done,), group=()), resend_interval_s=60)
    first, second = body
    assert first["labels"] == {
        "alertname": "HighErrorRate",
        "pool": "etl",
        "severity": "warning",
        "op": "crop",
    }
    assert first["startsAt"] == "2026-01-01T00:00:00.000Z"
    assert first["endsAt"] == rfc3339(NOW + 4 * 60 * 10**9)
    assert first["annotations"]["summary"] == "Error rate of op resize above 5 %"
    assert first["annotations"]["poolmon_id"] == "a"
    assert second["endsAt"] == "2026-01-01T00:01:40.000Z"
