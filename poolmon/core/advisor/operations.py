"""Operation and plumbing findings: timeouts, one dominant operation, session affinity, drops.

* Timeouts too tight: an operation's tasks hit their timeout (>= 3 in 5 min) while the p99 of
  its tasks that did *not* time out is >= 80 % of the limit: the limit cuts into the normal
  distribution, so raise it (x1.5, or x2 when the p99 is within 10 %; never more than x2 in
  one step). When that p99 is far below the limit, the timeouts are hangs: the limit is right.
* Timeout missing: an operation with >= 1000 tasks whose p99.9 is >= 10x its p50 and that has
  no timeout: one hang would hold a worker forever. Proposed limit: 3x the p99.9, rounded up.
  A warning when the p99.9 is above 1 s and 30x the p50 (an extreme tail, where a hang is
  plausible), info otherwise (a 10-20x tail is common under load spikes).
* One operation taking >= 70 % of the workers' busy time is where speed-ups pay (info).
* Session affinity hitting < 50 % of >= 100 routed tasks: the bound worker is usually busy.
* Events dropped by the telemetry path in the last 5 minutes: the monitors miss data.
"""

from __future__ import annotations

from poolmon.core.advisor.inputs import AdvisorInput, Thresholds, nice_up
from poolmon.core.advisor.model import Action, Evidence, Finding
from poolmon.core.advisor.words import duration, op_span_s, pct, per_minute


def _timeout_of(inp: AdvisorInput, op: str) -> float | None:
    """The op's configured timeout in seconds (its own, else the default), None if none/unknown."""
    for key in (f"op_timeout_s.{op}", "task_timeout_s"):
        value = inp.setting(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None


def timeouts(inp: AdvisorInput, th: Thresholds) -> list[Finding]:
    """Too tight, hangs, and missing timeouts (see module doc)."""
    out: list[Finding] = []
    # timeouts are counted per second over the whole window, not in the row's whole slots
    seen_s = inp.snap(300).covered_s
    for op in inp.snap(300).operations:
        if op.timeouts < th.timeout_min_count or not op.timeout_ns or op.p99_ok_ns is None:
            continue
        limit_s = op.timeout_ns / 1e9
        near = op.p99_ok_ns / op.timeout_ns
        ev = (
            Evidence(
                op.name,
                f"{op.timeouts} of {op.count} tasks timed out",
                op_span_s(op.covered_s, 300),
            ),
            Evidence(
                "p99 of the others",
                f"{duration(op.p99_ok_ns)} = {pct(near)} of the {duration(op.timeout_ns)} limit",
                300,
            ),
        )
        if near >= th.timeout_near:
            factor = 2.0 if near >= 0.9 else 1.5
            new = min(nice_up(limit_s * factor), limit_s * 2)
            out.append(
                Finding(
                    kind="timeout_tight",
                    key=f"timeout_tight:{op.name}",
                    severity="warning",
                    title=f"Timeout of {op.name} is too tight: raise it to {new:g} s",
                    evidence=ev,
                    confidence=0.9 if op.timeouts >= 10 and op.count >= 100 else 0.6,
                    impact=(
                        f"~{per_minute(op.timeouts, seen_s, 300):.1f} fewer killed "
                        "workers and failed tasks a minute"
                    ),
                    action=Action(
                        "set",
                        ((f"op_timeout_s.{op.name}", new),),
                        f"set op_timeout_s.{op.name} = {new:g}",
                    ),
                )
            )
        elif near < 0.5:
            out.append(
                Finding(
                    kind="timeout_hangs",
                    key=f"timeout_hangs:{op.name}",
                    severity="info",
                    title=f"{op.name}: {op.timeouts} tasks hung past a {limit_s:g} s limit the "
                    "others stay far below",
                    evidence=ev,
                    confidence=0.7,
                    impact="the limit is right; what hangs is in the task (a lock, a remote call)",
                    action=Action("hint", (), f"find what {op.name} waits on when it hangs"),
                )
            )
    out.extend(_missing(inp, th))
    return out


def _missing(inp: AdvisorInput, th: Thresholds) -> list[Finding]:
    out: list[Finding] = []
    for op in inp.snap(900).operations:
        lat = op.latency
        if op.count < th.tail_min_count or op.timeouts or lat.p50_ns is None or not lat.p999_ns:
            continue
        if lat.p999_ns < th.tail_ratio * lat.p50_ns or _timeout_of(inp, op.name) is not None:
            continue
        new = nice_up(3 * lat.p999_ns / 1e9)
        known = inp.knows_settings
        out.append(
            Finding(
                kind="timeout_missing",
                key=f"timeout_missing:{op.name}",
                severity="warning"
                if lat.p999_ns >= th.tail_warn_ns and lat.p999_ns >= th.tail_warn_ratio * lat.p50_ns
                else "info",
                title=f"{op.name} has a long tail and no timeout"
                + ("" if known else " (if none is set)")
                + f": set {new:g} s",
                evidence=(
                    Evidence(
                        op.name,
                        f"p50 {duration(lat.p50_ns)}, p99.9 {duration(lat.p999_ns)} "
                        f"({lat.p999_ns / lat.p50_ns:.0f}x), {op.count} tasks",
                        900,
                    ),
                    Evidence(
                        "timeout", "none" if known else "unknown (the pool's settings not read)"
                    ),
                ),
                confidence=0.8 if known else 0.5,
                impact="a hung task frees its worker after the limit instead of never",
                action=Action(
                    "set",
                    ((f"op_timeout_s.{op.name}", new),),
                    f"set op_timeout_s.{op.name} = {new:g}",
                ),
            )
        )
    return out


def dominant(inp: AdvisorInput, th: Thresholds) -> list[Finding]:
    """One operation taking most of the workers' busy time."""
    snap = inp.snap(300)
    busy = {o.name: o.count * (o.latency.mean_ns or 0.0) for o in snap.operations}
    total = sum(busy.values())
    if len(busy) < 2 or total <= 0:
        return []
    name, top = max(busy.items(), key=lambda kv: kv[1])
    share = top / total
    if share < th.dominant_share:
        return []
    op = next(o for o in snap.operations if o.name == name)
    return [
        Finding(
            kind="dominant_op",
            key=f"dominant_op:{name}",
            severity="info",
            title=f"{name} takes {pct(share)} of the workers' busy time: optimise it first",
            evidence=(
                Evidence(
                    name,
                    f"{op.count} tasks, mean {duration(op.latency.mean_ns)}",
                    op_span_s(op.covered_s, 300),
                ),
                Evidence("share of busy time", pct(share), 300),
            ),
            confidence=0.9 if op.count >= 100 else 0.6,
            impact=f"halving its time frees ~{pct(share / 2)} of the pool",
            action=Action("hint", (), f"profile {name}: it is most of what the workers do"),
        )
    ]


def affinity(inp: AdvisorInput, th: Thresholds) -> list[Finding]:
    """Session affinity that rarely reaches the bound worker."""
    load = inp.snap(300).load
    routed = load.affinity_hits + load.affinity_misses
    if routed < th.affinity_min_routed:
        return []
    rate = load.affinity_hits / routed
    if rate >= th.affinity_hit_rate:
        return []
    return [
        Finding(
            kind="affinity",
            key="affinity",
            severity="warning",
            title=f"Session affinity reaches the bound worker for only {pct(rate)} of tasks",
            evidence=(
                Evidence(
                    "affinity", f"{load.affinity_hits} hits, {load.affinity_misses} misses", 300
                ),
            ),
            confidence=0.85 if routed >= 1000 else 0.6,
            impact="session state (caches, connections) is rebuilt on another worker each miss",
            action=Action(
                "hint",
                (),
                "a 'hint' session goes elsewhere when its worker is busy: grow the pool, or use "
                "affinity='strict' for work that needs its worker's state",
            ),
        )
    ]


def drops(inp: AdvisorInput, th: Thresholds) -> list[Finding]:
    """Telemetry events lost in the last 5 minutes."""
    snap = inp.snap(300)
    n = snap.load.events_dropped
    if n <= 0:
        return []
    rate = inp.setting("telemetry_sample_rate")
    if isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0.01:
        new = round(max(0.01, rate / 2), 3)
        action = Action(
            "set", (("telemetry_sample_rate", new),), f"set telemetry_sample_rate = {new:g}"
        )
    else:
        action = Action(
            "hint", (), "lower telemetry_sample_rate, or find the monitor that reads too slowly"
        )
    return [
        Finding(
            kind="drops",
            key="drops",
            severity="warning" if n >= 100 else "info",
            title=f"Telemetry dropped {n} events in 5 min: monitors miss data",
            evidence=(
                Evidence("dropped", f"{n} events", 300),
                Evidence("since the monitor started", f"{snap.events_dropped} events"),
            ),
            confidence=0.9,
            impact="every figure on screen counts every task again",
            action=action,
        )
    ]
