"""Hand-built alert states for tests and snapshots: a pool with alerts in every display state.

`sample_view(now_ns)` is what a pool running the demo might report after a few minutes: a
critical crash loop firing in worker slot 1, an error-rate alert firing on `fetch_profile`, a p99
alert pending on `render_report`, worker 3's memory growth firing and acknowledged,
utilization above its band firing but silenced, two resolved alerts in the history and the
silence that mutes one of them. Every
value is fixed (the recent values are a deterministic curve), so snapshots are byte-stable.
`alert_state_event` wraps a view in the `poolmon.alert.state` event the pool would emit.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import replace

from poolmon.core import catalog as C
from poolmon.core.alerts.model import (
    FIRING,
    PENDING,
    RECENT_VALUES,
    RESOLVED,
    Ack,
    Alert,
    AlertsView,
    Matcher,
    Silence,
    labels_of,
    sorted_alerts,
)
from poolmon.core.events import Event

NS = 1_000_000_000


def curve(
    start: float, end: float, n: int = RECENT_VALUES, wobble: float = 0.08
) -> tuple[float, ...]:
    """`n` values going from `start` to `end`, with a fixed ripple (no randomness)."""
    out = []
    for i in range(n):
        t = i / max(1, n - 1)
        base = start + (end - start) * t
        out.append(round(base * (1 + wobble * math.sin(i * 0.7) * math.cos(i * 0.13)), 6))
    return tuple(out)


def make_alert(
    rule: str,
    now_ns: int,
    *,
    pool: str = "demo",
    severity: str = "warning",
    state: str = FIRING,
    extra: dict[str, str] | None = None,
    value: float | None = None,
    threshold: float | None = None,
    expr: str = "",
    metric: str = "",
    window_s: int = 60,
    age_s: int = 60,
    pending_s: int = 30,
    summary: str = "",
    recent: tuple[float | None, ...] = (),
    **fields: object,
) -> Alert:
    """One alert instance with the identity fields filled in the way the engine sets them."""
    labels = labels_of({"alertname": rule, "pool": pool, "severity": severity, **(extra or {})})
    since = now_ns - age_s * NS
    fired = since + pending_s * NS if state != PENDING else None
    fingerprint = f"{rule}{{{','.join(f'{k}={v}' for k, v in labels)}}}"
    alert = Alert(
        id=f"{zlib.crc32(f'{fingerprint}@{since}'.encode()):08x}",
        fingerprint=fingerprint,
        rule=rule,
        labels=labels,
        annotations=labels_of({"summary": summary or rule}),
        severity=severity,
        state=state,
        value=value,
        threshold=threshold,
        expr=expr,
        metric=metric,
        window_s=window_s,
        active_since_ns=since,
        fired_at_ns=fired,
        last_eval_ns=now_ns,
        recent=recent,
    )
    return replace(alert, **fields) if fields else alert  # type: ignore[arg-type]


def sample_view(now_ns: int, *, pool: str = "demo", revision: int = 7) -> AlertsView:
    """Alerts pending, firing, acked and silenced, two resolved, and one silence (module doc).

    Names, metrics and expressions are those of the default rule pack
    (poolmon.core.alerts.defaults), as the engine words them.
    """
    silence = Silence(
        id="s-1",
        matchers=(Matcher("alertname", "=", "UtilizationOutsideBand"), Matcher("pool", "=", pool)),
        starts_at_ns=now_ns - 15 * 60 * NS,
        ends_at_ns=now_ns + 45 * 60 * NS,
        created_by="bob",
        comment="load test until 11:00",
    )
    active = [
        make_alert(
            "WorkerCrashLoop",
            now_ns,
            pool=pool,
            severity="critical",
            extra={"slot": "1"},
            value=3.0,
            threshold=3.0,
            metric="worker_exits",
            age_s=75,
            pending_s=0,
            window_s=300,
            expr="worker_exits{slot} over 5m >= 3",
            summary="Workers in slot 1 exited abnormally 3 times in 5m",
            recent=tuple(float(min(3, 1 + i // 45)) for i in range(RECENT_VALUES)),
        ),
        make_alert(
            "ErrorRateHigh",
            now_ns,
            pool=pool,
            extra={"op": "fetch_profile"},
            value=0.072,
            threshold=0.05,
            metric="error_rate",
            age_s=192,
            window_s=300,
            expr="error_rate{op} over 5m > 5 %",
            summary="fetch_profile: 7.2 % of tasks failed over 5m (threshold 5 %)",
            recent=curve(0.012, 0.072),
        ),
        make_alert(
            "LatencyP99High",
            now_ns,
            pool=pool,
            state=PENDING,
            extra={"op": "render_report"},
            value=0.384,
            threshold=0.25,
            metric="latency_p99",
            age_s=40,
            expr="latency_p99{op} over 1m above its 1h median by > max(3.5 MAD/0.6745, 50 %)",
            summary="render_report: p99 384 ms is far above its usual level (limit 250 ms)",
            recent=curve(0.18, 0.384),
        ),
        make_alert(
            "WorkerMemoryGrowth",
            now_ns,
            pool=pool,
            extra={"worker": "3"},
            value=0.14,
            threshold=0.10,
            metric="worker_rss_bytes",
            age_s=605,
            expr="relative rate(worker_rss_bytes{worker} over 1m, 10m) > 10 %",
            summary="Worker 3 memory grows 14 %/10m (threshold 10 %/10m)",
            recent=curve(0.11, 0.14, wobble=0.03),
            ack=Ack("alice", now_ns - 200 * NS, "cache leak in warm_cache, fix in review"),
        ),
        make_alert(
            "UtilizationOutsideBand",
            now_ns,
            pool=pool,
            severity="info",
            value=0.97,
            threshold=0.8,
            metric="utilization",
            age_s=1500,
            window_s=300,
            expr="utilization over 5m outside 60 %..80 %",
            summary="Utilization 97 % is outside the 60-80 % band",
            recent=curve(0.9, 0.97, wobble=0.02),
            silenced_by=("s-1",),
        ),
    ]
    history = [
        make_alert(
            "QueueBacklogGrowing",
            now_ns,
            pool=pool,
            state=RESOLVED,
            value=2.0,
            threshold=10.0,
            metric="queue_depth",
            age_s=900,
            pending_s=60,
            expr="rate(queue_depth over 1m, 1m) > 10",
            resolved_at_ns=now_ns - 480 * NS,
        ),
        make_alert(
            "ErrorRateHigh",
            now_ns,
            pool=pool,
            state=RESOLVED,
            extra={"op": "score_model"},
            value=0.01,
            threshold=0.05,
            metric="error_rate",
            age_s=2400,
            pending_s=0,
            expr="error_rate{op} over 5m > 5 %",
            resolved_at_ns=now_ns - 2100 * NS,
            ack=Ack("alice", now_ns - 2300 * NS, ""),
        ),
    ]
    return AlertsView(
        pool=pool,
        revision=revision,
        evaluated_at_ns=now_ns,
        alerts=sorted_alerts(active),
        silences=(silence,),
        history=tuple(history),
        rules=8,
    )


def alert_state_event(view: AlertsView, ts_ns: int | None = None) -> Event:
    """The `poolmon.alert.state` event a pool emits for `view`."""
    counts = {FIRING: 0, PENDING: 0}
    for a in view.alerts:
        if a.state in counts:
            counts[a.state] += 1
    return Event(
        C.ALERT_STATE,
        view.evaluated_at_ns if ts_ns is None else ts_ns,
        {"firing": counts[FIRING], "pending": counts[PENDING], "revision": view.revision},
        {"pool": view.pool, "view": view.to_wire()},
    )
