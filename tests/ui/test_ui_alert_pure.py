"""The pure helpers behind the alert widgets and dialogs: formats, the silence form, toasts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from poolmon.app.announcer import FiringAnnouncer
from poolmon.core.alerts.model import FIRING, PENDING, RESOLVED, Ack, Matcher
from poolmon.screens._silence_form import build_request, parse_duration, prefill
from poolmon.testing.alert_samples import NS, make_alert, sample_view
from poolmon.widgets import _alert_format as af

NOW = 1_800_000_000 * NS
GIB = 2**30


@pytest.mark.parametrize(
    ("metric", "expr", "value", "threshold", "shown"),
    [
        ("error_rate", "error_rate{op} over 5m > 5 %", 0.072, 0.05, "7.2% > 5.0%"),
        ("latency_p99", "latency_p99{op} over 1m > 250ms", 0.384, 0.25, "384ms > 250ms"),
        (
            "worker_rss_bytes",
            "worker_rss_bytes{worker} over 1m > 512 MiB",
            6e8,
            2**29,
            "572MiB > 512MiB",
        ),
        ("throughput", "throughput over 1m < 10/s", 4.0, 10.0, "4/s < 10/s"),
        ("worker_exits", "worker_exits{slot} over 5m >= 3", 3.0, 3.0, "3 >= 3"),
        ("utilization", "utilization over 5m outside 60 %..80 %", 0.45, 0.6, "45% < 60%"),
        (  # the guard's ">=" is not the rule's comparison (the default band rule has one)
            "utilization",
            "utilization over 5m outside 60 %..80 % when throughput over 5m >= 1/s",
            0.48,
            0.6,
            "48% < 60%",
        ),
        (
            "error_rate",
            "error_rate{op} over 5m > 5 % when tasks_finished{op} over 5m >= 20",
            0.07,
            0.05,
            "7.0% > 5.0%",
        ),
        (
            "worker_rss_bytes",
            "relative rate(worker_rss_bytes{worker} over 1m, 10m) > 10 %",
            0.14,
            0.1,
            "14% > 10%",
        ),
        ("queue_depth", "rate(queue_depth over 1m, 1m) > 10", 12.0, 10.0, "12 > 10"),
        ("custom_wait_seconds", "custom_wait_seconds > 2", 3.5, 2.0, "3.50s > 2.00s"),
        ("error_rate", "error_rate{op} over 5m > 5 %", None, 0.05, "— > 5.0%"),
        # texts that would print alike get the decimals that tell them apart
        ("utilization", "utilization over 5m outside 60 %..80 %", 0.5996, 0.6, "59.96% < 60.00%"),
        ("utilization", "utilization over 5m outside 60 %..80 %", 0.597, 0.6, "59.7% < 60.0%"),
        ("custom_wait_seconds", "custom_wait_seconds > 2", 2.0004, 2.0, "2.0004s > 2.0000s"),
        ("latency_p99", "latency_p99{op} over 5m > 60 s", 60.2, 60.0, "60.2s > 60.0s"),
        (
            "worker_rss_bytes",
            "worker_rss_bytes > 1 GiB",
            1.0001 * 2**30,
            2**30,
            "1.0001GiB > 1.0000GiB",
        ),
        ("throughput", "throughput over 1m < 10/s", 9.99996, 10.0, "9.99996/s < 10.00000/s"),
        ("queue_depth", "queue_depth > 1000", 1000.4, 1000.0, "1.0004k > 1.0000k"),
        # ...and so do values that would look alike in another unit (`1000ms < 1.00s`)
        ("custom_wait_seconds", "custom_wait_seconds < 1", 0.9996, 1.0, "0.9996s < 1.0000s"),
        ("latency_p99", "latency_p99{op} over 5m < 60 s", 59.996, 60.0, "59.996s < 60.000s"),
        (
            "worker_rss_bytes",
            "worker_rss_bytes < 1 GiB",
            0.9996 * 2**30,
            2**30,
            "0.9996GiB < 1.0000GiB",
        ),
        ("queue_depth", "queue_depth < 1000", 999.9, 1000.0, "0.9999k < 1.0000k"),
        ("queue_depth", "queue_depth > 1000", float("inf"), 1000.0, "∞ > 1.00k"),
    ],
)
def test_value_vs_threshold_in_the_metric_unit(
    metric: str, expr: str, value: float | None, threshold: float, shown: str
) -> None:
    alert = make_alert("R", NOW, metric=metric, expr=expr, value=value, threshold=threshold)
    assert af.value_vs_threshold(alert) == shown


def test_a_resolved_alert_claims_no_comparison() -> None:
    alert = make_alert(
        "R", NOW, state=RESOLVED, metric="error_rate", expr="x > 5 %", value=0.01, threshold=0.05
    )
    assert af.value_vs_threshold(alert) == "1.0% vs 5.0%"


def test_labels_since_and_lasted() -> None:
    alert = make_alert("R", NOW, extra={"op": "fetch", "worker": "3"}, age_s=192, pending_s=30)
    assert af.key_labels(alert) == "op=fetch worker=3"
    assert af.key_labels(alert, short=True) == "fetch worker 3"
    assert af.since(alert, NOW) == "2m42s"  # firing since it fired, not since it was pending
    pending = make_alert("R", NOW, state=PENDING, age_s=40)
    assert af.since(pending, NOW) == "40s"
    done = make_alert("R", NOW, state=RESOLVED, age_s=600, resolved_at_ns=NOW - 120 * NS)
    assert af.lasted(done) == "8m00s"
    assert af.since(done, NOW) == "2m00s"  # resolved since it resolved, not since it fired


def test_display_order_most_severe_then_most_urgent() -> None:
    view = sample_view(NOW)
    ordered = [a.rule for a in sorted(view.alerts, key=af.display_key)]
    assert ordered == [
        "WorkerCrashLoop",  # critical
        "ErrorRateHigh",  # warning, firing
        "LatencyP99High",  # warning, pending
        "WorkerMemoryGrowth",  # warning, acked
        "UtilizationOutsideBand",  # info
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("1h", 3600), ("90m", 5400), ("1h30m", 5400), ("2d", 172800), (" 45s ", 45)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "write a duration"),
        ("5x", "write a duration"),
        ("30m1h", "write a duration"),  # largest unit first
        ("1h 30m", "write a duration"),
        ("0s", "longer than 0s"),
        ("91d", "at most 90d"),
    ],
)
def test_bad_durations_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_duration(text)


def test_prefill_and_request() -> None:
    alert = make_alert("ErrorRateHigh", NOW, extra={"op": "fetch"})
    lines = prefill(alert)
    assert lines == ["alertname=ErrorRateHigh", "pool=demo", "op=fetch"]
    assert prefill(None) == []
    request, problems = build_request("1h", [*lines, "  "], " deploy ")
    assert problems == []
    assert request is not None
    assert request.matchers == (
        Matcher("alertname", "=", "ErrorRateHigh"),
        Matcher("pool", "=", "demo"),
        Matcher("op", "=", "fetch"),
    )
    assert request.to_args() == {
        "matchers": [
            ["alertname", "=", "ErrorRateHigh"],
            ["pool", "=", "demo"],
            ["op", "=", "fetch"],
        ],
        "duration_s": 3600.0,
        "comment": "deploy",
    }


def test_request_problems_are_all_listed() -> None:
    request, problems = build_request("x", ["host=a", "op=~("], "")
    assert request is None
    assert len(problems) == 3
    assert "silences match alertname, pool, worker, slot, op, severity" in problems[1]
    assert "bad regular expression" in problems[2]
    request, problems = build_request("1h", ["", " "], "")
    assert request is None
    assert problems == ["add at least one matcher; an empty silence would mute every alert"]


def test_announcer_announces_each_new_firing_alert_once() -> None:
    announcer = FiringAnnouncer()
    assert announcer.news(None) == []
    view = sample_view(NOW)
    first = announcer.news(view)
    assert [a.rule for a in first] == ["WorkerCrashLoop", "ErrorRateHigh"]  # not acked/silenced
    assert announcer.news(view) == []
    crash = next(a for a in view.alerts if a.rule == "WorkerCrashLoop")
    acked = replace(crash, ack=Ack("bob", NOW, ""))
    others = tuple(a for a in view.alerts if a.id != crash.id)
    assert announcer.news(replace(view, alerts=(*others, acked))) == []
    # it resolves, and fires again later: a new id, so news again
    again = make_alert(
        "WorkerCrashLoop", NOW + 600 * NS, extra={"slot": "1"}, state=FIRING, severity="critical"
    )
    assert again.id != crash.id
    assert announcer.news(replace(view, alerts=(*others, again))) == [again]
