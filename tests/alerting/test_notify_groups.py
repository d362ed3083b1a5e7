"""Grouping and timers, driven by hand-set times: hours of Alertmanager behaviour at once."""

from __future__ import annotations

from notify_helpers import T0, make_alert, parse_text, view

from poolmon.core.alerts.model import Ack, Alert
from poolmon.core.alerts.notify_groups import RESOLVED_RESEND_S, Notification, Router
from poolmon.core.alerts.notify_model import RateLimit
from poolmon.core.alerts.token_bucket import TokenBucket

TIMED = """\
[notify]
group_wait = "10s"
group_interval = "60s"
repeat_interval = "300s"

[[channels]]
name = "hook"
kind = "webhook"
url = "http://127.0.0.1:9/hook"
"""


class Driver:
    """A router and a clock in seconds since T0."""

    def __init__(self, text: str = TIMED) -> None:
        self.router = Router(parse_text(text), "etl")
        self.now = 0.0

    def at(self, t: float, *alerts: Alert) -> list[Notification]:
        self.now = t
        v = view(*alerts) if alerts else None
        return self.router.step(v, t, T0 + int(t * 1e9))

    def empty(self, t: float) -> list[Notification]:
        self.now = t
        return self.router.step(view(), t, T0 + int(t * 1e9))


def ids(notes: list[Notification]) -> list[tuple[str, list[str], list[str]]]:
    return [(n.reason, [a.id for a in n.firing], [a.id for a in n.resolved]) for n in notes]


def test_pending_alerts_never_notify() -> None:
    d = Driver()
    pending = make_alert(state="pending")
    for t in range(0, 400, 5):
        assert d.at(t, pending) == []
    assert d.router.next_due_s() is None


def test_a_new_group_waits_group_wait_and_batches_what_arrives_meanwhile() -> None:
    d = Driver()
    a = make_alert(id="a", labels={"op": "resize"})
    b = make_alert(id="b", labels={"op": "crop"})
    assert d.at(0, a) == []
    assert d.router.next_due_s() == 10.0
    assert d.at(5, a, b) == []
    notes = d.at(10, a, b)
    assert ids(notes) == [("new", ["a", "b"], [])]
    assert notes[0].group == (("alertname", "HighErrorRate"), ("pool", "etl"))
    assert notes[0].channel == "hook"


def test_an_alert_resolved_within_group_wait_is_never_notified() -> None:
    d = Driver()
    assert d.at(0, make_alert(id="a")) == []
    assert d.at(4, make_alert(id="a", state="resolved")) == []
    assert d.at(10, make_alert(id="a", state="resolved")) == []
    assert d.at(70, make_alert(id="a", state="resolved")) == []
    assert d.router.next_due_s() is None  # the empty group is gone


def test_changes_go_out_at_group_interval_ticks_and_unchanged_ticks_stay_quiet() -> None:
    d = Driver()
    a = make_alert(id="a", labels={"op": "resize"})
    b = make_alert(id="b", labels={"op": "crop"})
    d.at(0, a)
    assert ids(d.at(10, a)) == [("new", ["a"], [])]
    assert d.at(40, a, b) == []  # added between ticks: waits for the tick
    assert d.at(69.9, a, b) == []
    assert ids(d.at(70, a, b)) == [("update", ["a", "b"], [])]
    assert d.at(130, a, b) == []  # nothing new at this tick


def test_resolved_alerts_are_notified_at_the_next_tick_where_send_resolved() -> None:
    d = Driver()
    a = make_alert(id="a", labels={"op": "resize"})
    b = make_alert(id="b", labels={"op": "crop"})
    d.at(0, a, b)
    d.at(10, a, b)
    b_done = make_alert(id="b", labels={"op": "crop"}, state="resolved")
    assert d.at(30, a, b_done) == []
    assert ids(d.at(70, a, b_done)) == [("update", ["a"], ["b"])]
    assert d.at(130, a, b_done) == []  # told once
    a_done = make_alert(id="a", labels={"op": "resize"}, state="resolved")
    notes = d.at(190, a_done, b_done)
    assert ids(notes) == [("update", [], ["a"])]
    assert notes[0].status == "resolved"
    assert d.router.next_due_s() is None


def test_without_send_resolved_a_resolution_is_silent() -> None:
    d = Driver(TIMED + "send_resolved = false\n")
    d.at(0, make_alert(id="a"))
    assert ids(d.at(10, make_alert(id="a"))) == [("new", ["a"], [])]
    assert d.at(70, make_alert(id="a", state="resolved")) == []
    assert d.router.next_due_s() is None
    d.at(100, make_alert(id="a2"))  # fires again later: a new alert, a new group
    assert ids(d.at(110, make_alert(id="a2"))) == [("new", ["a2"], [])]


def test_unchanged_groups_repeat_every_repeat_interval() -> None:
    d = Driver()
    a = make_alert(id="a")
    d.at(0, a)
    assert ids(d.at(10, a)) == [("new", ["a"], [])]
    quiet = [t for t in range(70, 310, 60) if d.at(t, a)]
    assert quiet == []
    assert ids(d.at(310, a)) == [("repeat", ["a"], [])]  # 300 s after the last notification


def test_repeats_come_every_rounded_up_interval_however_late_after_its_tick_a_step_runs() -> None:
    # repeat_interval 40 s at 15-s ticks repeats every 45 s (the third tick), as ALERTS_CHANNELS.md
    # says. The notifier's thread runs a step a little after each tick, by varying amounts; a
    # repeat measured from when the previous step ran, not from its tick, slipped to the fourth
    # tick (every 60 s) whenever the earlier step had run later after its tick than this one.
    d = Driver(TIMED.replace('"60s"', '"15s"').replace('"300s"', '"40s"'))
    a = make_alert(id="a")
    b = make_alert(id="b", labels={"op": "crop"})
    d.at(0, a)
    lags = (0.4, 0.1, 0.3, 0.2, 0.05)
    sent: list[tuple[int, str]] = []
    for k, tick in enumerate(range(10, 280, 15)):  # the group's ticks: group_wait 10 s, then 15 s
        alerts = (a, b) if tick >= 120 else (a,)  # b starts firing between the ticks 115 and 130
        sent += [(tick, n.reason) for n in d.at(tick + lags[k % len(lags)], *alerts)]
    assert sent == [
        (10, "new"),
        (55, "repeat"),
        (100, "repeat"),
        (130, "update"),
        (175, "repeat"),
        (220, "repeat"),
        (265, "repeat"),
    ]


def test_acknowledged_alerts_do_not_repeat_but_news_in_their_group_still_notify() -> None:
    d = Driver()
    acked = make_alert(id="a", ack=Ack("alice", T0, "on it"))
    d.at(0, make_alert(id="a"))
    d.at(10, make_alert(id="a"))
    assert all(d.at(t, acked) == [] for t in range(70, 1000, 60))
    b = make_alert(id="b", labels={"op": "crop"})
    notes = d.at(1030, acked, b)
    assert ids(notes) == [("update", ["a", "b"], [])]
    assert notes[0].firing[0].ack is not None  # the acked one is shown, marked
    assert ids(d.at(1030 + 300, acked, b)) == [("repeat", ["a", "b"], [])]  # b is not acked


def test_silenced_and_inhibited_alerts_notify_nobody() -> None:
    d = Driver()
    silenced = make_alert(id="s", silenced_by=("sil-1",))
    inhibited = make_alert(id="i", labels={"worker": "3"}, inhibited_by="PoolDown")
    for t in (0, 10, 70, 400):
        assert d.at(t, silenced, inhibited) == []
    d.at(500, make_alert(id="s"))  # the silence ended: now it is news
    assert ids(d.at(510, make_alert(id="s"))) == [("new", ["s"], [])]


def test_matchers_route_alerts_and_group_by_splits_groups() -> None:
    text = TIMED.replace(
        '"http://127.0.0.1:9/hook"',
        '"http://127.0.0.1:9/hook"\n'
        'matchers = ["severity=critical"]\ngroup_by = ["alertname", "op"]',
    )
    d = Driver(text)
    warn = make_alert(id="w", labels={"op": "resize"})
    crit1 = make_alert(id="c1", severity="critical", labels={"op": "resize"})
    crit2 = make_alert(id="c2", severity="critical", labels={"op": "crop"})
    d.at(0, warn, crit1, crit2)
    notes = d.at(10, warn, crit1, crit2)
    assert sorted(ids(notes)) == [("new", ["c1"], []), ("new", ["c2"], [])]
    assert {n.group for n in notes} == {
        (("alertname", "HighErrorRate"), ("op", "resize")),
        (("alertname", "HighErrorRate"), ("op", "crop")),
    }


def test_an_undelivered_notification_is_news_again_at_the_next_tick() -> None:
    d = Driver()
    a = make_alert(id="a")
    d.at(0, a)
    (first,) = d.at(10, a)
    assert d.at(70, a) == []  # delivered: nothing new
    d.router.undelivered(first, 75)  # ...but it was not, after all
    assert ids(d.at(130, a)) == [("update", ["a"], [])]
    done = make_alert(id="a", state="resolved")
    (resolution,) = d.at(190, done)
    assert d.router.next_due_s() is None  # the group is gone
    d.router.undelivered(resolution, 200)
    assert d.at(259, done) == []
    assert ids(d.at(260, done)) == [("update", [], ["a"])]  # recreated, one interval later


AM = """\
[notify]
resend_interval = "60s"

[[channels]]
name = "am"
kind = "webhook"
format = "alertmanager"
url = "http://127.0.0.1:9093"
"""


def test_alertmanager_receivers_get_changes_at_once_and_resends() -> None:
    d = Driver(AM)
    a = make_alert(id="a")
    assert ids(d.at(0, a)) == [("update", ["a"], [])]  # no group_wait: Alertmanager groups
    assert d.at(1, a) == []
    assert d.router.next_due_s() == 60.0
    assert ids(d.at(60, a)) == [("resend", ["a"], [])]
    done = make_alert(id="a", state="resolved", resolved_ns=T0 + 61 * 10**9)
    assert ids(d.at(61, done)) == [("update", [], ["a"])]
    assert ids(d.at(121, done)) == [("resend", [], ["a"])]  # resolved ones re-sent a while
    late = 61 + RESOLVED_RESEND_S + 60
    assert d.at(late, done) == []
    d.empty(late + 1)
    assert d.at(late + 200, done) == []  # forgotten once gone from the view


def test_alertmanager_gets_an_undelivered_batch_again_at_the_next_step() -> None:
    d = Driver(AM)
    (batch,) = d.at(0, make_alert(id="a"))
    assert d.at(1, make_alert(id="a")) == []
    d.router.undelivered(batch, 1.5)
    assert ids(d.at(2, make_alert(id="a"))) == [("update", ["a"], [])]
    done = make_alert(id="a", state="resolved", resolved_ns=T0 + 3 * 10**9)
    (resolution,) = d.at(3, done)
    d.router.undelivered(resolution, 3.5)
    assert ids(d.at(4, done)) == [("update", [], ["a"])]


def test_an_alert_unsilenced_is_sent_to_alertmanager_at_once() -> None:
    d = Driver(AM)
    d.at(0, make_alert(id="a"))
    assert d.at(5, make_alert(id="a", silenced_by=("s1",))) == []
    assert ids(d.at(6, make_alert(id="a"))) == [("update", ["a"], [])]


def test_alertmanager_receivers_never_hear_of_pending_or_silenced_alerts() -> None:
    d = Driver(AM)
    assert (
        d.at(0, make_alert(id="p", state="pending"), make_alert(id="s", silenced_by=("x",))) == []
    )
    assert d.at(120, make_alert(id="p", state="pending")) == []


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(RateLimit(per_minute=6, burst=2), now_s=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [True, True, False]
    assert not bucket.take(9.9)
    assert bucket.take(10.0)  # one token every 10 s
    unlimited = TokenBucket(RateLimit(per_minute=0, burst=1), now_s=0.0)
    assert all(unlimited.take(0.0) for _ in range(1000))
