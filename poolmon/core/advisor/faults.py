"""Fault findings: memory leaks, crash loops, recycle loops, and where errors come from.

* A worker whose RSS rises steadily (a straight line: R² >= 0.8 over >= 8 one-minute means, at least
  8 MiB/h and 10 % over the span) leaks. The fix in the pool is recycling above an RSS limit;
  the finding gives the slope and when the worker reaches the limit (the current one, or the
  proposed one when none is set).
* Three exits of one worker for crash/health/start failure in 5 minutes is a crash loop
  (a replaced worker dies again): nothing to tune, the finding says where to look.
  Three recycles for memory of one worker in 5 minutes means the RSS limit is below what a
  fresh worker needs: raise it.
* Errors concentrate either in an operation (its failure rate is >= 5 % and >= 3x the rest's:
  a bad op, fix its code) or in a worker (it fails >= 5x as often as the median of the others:
  a bad worker, recycle it). Telling the two apart is the point of the rule.
"""

from __future__ import annotations

import statistics

from poolmon.core.advisor.inputs import AdvisorInput, Thresholds, last_value, nice_up, trend
from poolmon.core.advisor.model import Action, Evidence, Finding
from poolmon.core.advisor.words import mib, minutes, op_span_s, pct, per_minute
from poolmon.core.snapshot import Series
from poolmon.core.workers import MAX_EXITED_WORKERS

CRASH_REASONS = frozenset({"crash", "health", "start_failed"})
"""Exit reasons that mean a worker died rather than was retired."""
LOOP_WINDOW_NS = 300 * 10**9
"""Crash and recycle loops are counted over the last 5 minutes."""
MIB = 2**20


def leaks(inp: AdvisorInput, th: Thresholds) -> list[Finding]:
    """The steepest steadily growing worker RSS, if any (see module doc)."""
    best: tuple[float, Finding] | None = None
    count = 0
    for window in (900, 300):
        snap = inp.snap(window)
        for w in snap.workers:
            if not w.alive or w.rss_bytes is None:
                continue
            slope, r2, n = trend(w.rss_series)
            first = next((v for v in w.rss_series.values if v is not None), None)
            if n < th.leak_min_points or r2 < th.leak_min_r2 or not first:
                continue
            span_s = n * w.rss_series.step_ns / 1e9
            mib_h = slope * 3600 / MIB
            if mib_h < th.leak_min_mib_per_h or slope * span_s < th.leak_min_growth * first:
                continue
            count += 1
            finding = _leak(inp, w.worker_id, w.rss_bytes, slope, r2, n, window, w.rss_series)
            if best is None or slope > best[0]:
                best = (slope, finding)
        if best is not None:
            break
    if best is None:
        return []
    f = best[1]
    if count > 1:
        f = Finding(
            f.kind,
            f.key,
            f.severity,
            f.title,
            (*f.evidence, Evidence("workers leaking", str(count))),
            f.confidence,
            f.impact,
            f.action,
            f.chart,
            f.chart_title,
        )
    return [f]


def _leak(
    inp: AdvisorInput,
    wid: int,
    rss: int,
    slope: float,
    r2: float,
    n: int,
    window: int,
    series: Series,
) -> Finding:
    mib_h = slope * 3600 / MIB
    limit = inp.setting("recycle_above_rss_mib")
    evidence = [
        Evidence(f"worker {wid} RSS", f"{mib(rss)} now, +{mib_h:,.1f} MiB/h (R² {r2:.2f})", window),
    ]
    confidence = min(0.95, 0.6 + (r2 - 0.8) * 1.5 + min(n, 60) / 300)
    if isinstance(limit, int | float) and limit > 0 and not isinstance(limit, bool):
        eta = max(0.0, (limit * MIB - rss) / slope)
        evidence.append(Evidence("recycled above", f"{limit:g} MiB, reached in ~{minutes(eta)}"))
        return Finding(
            kind="leak",
            key="leak",
            severity="info",
            title=f"Worker {wid} leaks {mib_h:,.0f} MiB/h; recycled at {limit:g} MiB in ~"
            f"{minutes(eta)}",
            evidence=tuple(evidence),
            confidence=round(confidence, 2),
            impact="the limit contains it; only a fix in the task code stops the growth",
            action=Action("hint", (), "find what the task keeps (caches, globals, leaked refs)"),
            chart=series,
            chart_title=f"worker {wid} RSS (bytes)",
        )
    proposed = nice_up(max(rss * 1.5, rss + 64 * MIB) / MIB)
    eta = (proposed * MIB - rss) / slope
    evidence.append(Evidence("proposed limit", f"{proposed:g} MiB, reached in ~{minutes(eta)}"))
    if not inp.knows_settings:
        confidence = min(confidence, 0.7)
    return Finding(
        kind="leak",
        key="leak",
        severity="warning",
        title=f"Worker {wid} leaks {mib_h:,.0f} MiB/h: recycle workers above {proposed:g} MiB",
        evidence=tuple(evidence),
        confidence=round(confidence, 2),
        impact=f"memory stays under ~{proposed:g} MiB per worker; one graceful restart every "
        f"~{minutes(eta)} per leaking worker",
        action=Action(
            "set",
            (("recycle_above_rss_mib", int(proposed)),),
            f"set recycle_above_rss_mib = {proposed:g}",
        ),
        chart=series,
        chart_title=f"worker {wid} RSS (bytes)",
    )


def _deaths(total: int, workers: int, floor: bool) -> str:
    """`12 in 12 worker(s)`, or a floor when the held exited workers may not be all of them."""
    if not floor:
        return f"{total} in {workers} worker(s)"
    return (
        f"at least {total} in {workers} worker(s) "
        f"(only the last {MAX_EXITED_WORKERS} exited workers are held)"
    )


def loops(inp: AdvisorInput, th: Thresholds) -> list[Finding]:
    """Crash loops and memory-recycle loops over the last 5 minutes."""
    snap = inp.snap(300)
    since = snap.taken_at_ns - LOOP_WINDOW_NS
    out: list[Finding] = []
    crashes: dict[int, list[str]] = {}
    recycles: dict[int, int] = {}
    for w in snap.workers:
        for e in w.exits:
            if e.at_ns < since:
                continue
            if e.reason in CRASH_REASONS:
                code = f"signal {e.signal}" if e.signal else f"exit code {e.exit_code}"
                crashes.setdefault(w.worker_id, []).append(f"{e.reason} ({code})")
            elif e.reason == "recycle_memory":
                recycles[w.worker_id] = recycles.get(w.worker_id, 0) + 1
    total = sum(len(v) for v in crashes.values())
    # exited workers are held up to a cap, the longest-gone dropped first: with the cap full
    # and even the oldest held exit inside the window, the window's earlier deaths may have
    # been dropped, so N is a floor
    gone = [max(e.at_ns for e in w.exits) for w in snap.workers if not w.alive and w.exits]
    floor = len(gone) >= MAX_EXITED_WORKERS and min(gone) >= since
    worst = max(crashes.items(), key=lambda kv: len(kv[1]), default=None)
    if worst is not None and (
        len(worst[1]) >= th.crash_loop_exits or total >= 2 * th.crash_loop_exits
    ):
        wid, reasons = worst
        out.append(
            Finding(
                kind="crash_loop",
                key="crash_loop",
                severity="critical",
                title=f"Crash loop: {total} worker deaths in 5 min "
                f"({len(reasons)} of worker {wid})",
                evidence=(
                    Evidence("deaths", _deaths(total, len(crashes), floor), 300),
                    Evidence(f"worker {wid}", ", ".join(reasons[-4:]), 300),
                ),
                confidence=0.9,
                impact="every death fails the task it ran and costs a restart",
                action=Action(
                    "hint",
                    (),
                    "look at the worker's last tasks and exit status (enter on the worker): a "
                    "signal 9 is usually the OOM killer, a non-zero exit a native crash",
                ),
                chart=snap.throughput,
                chart_title="throughput (tasks/s), last 5 min",
            )
        )
    limit = inp.setting("recycle_above_rss_mib")
    for wid, n in sorted(recycles.items()):
        if n < th.crash_loop_exits:
            continue
        action = Action("hint", (), "raise the RSS limit above what a fresh worker needs")
        if isinstance(limit, int | float) and not isinstance(limit, bool) and limit > 0:
            action = Action(
                "set",
                (("recycle_above_rss_mib", int(limit * 2)),),
                f"set recycle_above_rss_mib = {int(limit * 2)}",
            )
        out.append(
            Finding(
                kind="recycle_loop",
                key=f"recycle_loop:{wid}",
                severity="warning",
                title=f"Worker {wid} recycled for memory {n} times in 5 min: the limit is too low",
                evidence=(Evidence("memory recycles", str(n), 300),),
                confidence=0.8,
                impact="fewer restarts; each one costs a worker start",
                action=action,
            )
        )
        break
    return out


def error_hotspots(inp: AdvisorInput, th: Thresholds) -> list[Finding]:
    """A bad operation or a bad worker (see module doc)."""
    snap = inp.snap(300)
    bad_worker = _bad_worker(inp, th)
    out: list[Finding] = []
    total = sum(o.count for o in snap.operations)
    failed = sum(o.errors for o in snap.operations)
    types = ", ".join(f"{name} {n}" for name, n in snap.errors.by_type[:3]) or "—"
    for op in snap.operations:
        if op.errors < th.op_error_min or op.errors <= 2 * op.timeouts:
            continue  # mostly timeouts: the timeout rules speak about those
        rate = op.errors / op.count
        rest_n = total - op.count
        rest = (failed - op.errors) / rest_n if rest_n else 0.0
        if rate < th.op_error_rate or (rest_n and rate < 3 * rest):
            continue
        if bad_worker and not rest_n:
            continue  # one operation and one bad worker: the worker explains it
        out.append(
            Finding(
                kind="error_op",
                key=f"error_op:{op.name}",
                severity="critical" if rate >= 0.25 else "warning",
                title=f"Operation {op.name} fails {pct(rate)} of its tasks (others {pct(rest)})",
                evidence=(
                    Evidence(
                        op.name,
                        f"{op.errors} of {op.count} failed",
                        op_span_s(op.covered_s, 300),
                    ),
                    Evidence("other operations", f"{pct(rest)} failed", 300),
                    Evidence("error types (all ops)", types, 300),
                ),
                confidence=0.9 if op.errors >= 50 else 0.7,
                impact=(
                    f"{per_minute(op.errors, op.covered_s, 300):.1f} failed tasks a minute "
                    "fewer once fixed"
                ),
                action=Action("hint", (), f"a bad operation, not a bad worker: fix {op.name}"),
                chart=dict(snap.errors.series_by_type).get(
                    snap.errors.by_type[0][0] if snap.errors.by_type else "", snap.throughput
                ),
                chart_title="failures of the most frequent error type (per s), last 5 min",
            )
        )
    out.extend(bad_worker)
    return out


def _bad_worker(inp: AdvisorInput, th: Thresholds) -> list[Finding]:
    rows = [
        (w.worker_id, w.tasks_failed / w.tasks_done, w)
        for w in inp.snap(300).workers
        if w.alive and w.tasks_done >= 20
    ]
    if len(rows) < 3:
        return []
    wid, rate, w = max(rows, key=lambda r: r[1])
    others = statistics.median(r for i, r, _ in rows if i != wid)
    if w.tasks_failed < th.op_error_min or rate < th.op_error_rate:
        return []
    if others > 0 and rate < th.worker_error_ratio * others:
        return []
    rss = last_value(w.rss_series)
    return [
        Finding(
            kind="error_worker",
            key=f"error_worker:{wid}",
            severity="warning",
            title=f"Worker {wid} fails {pct(rate)} of its tasks, the others {pct(others)}: "
            "recycle it",
            evidence=(
                Evidence(f"worker {wid}", f"{w.tasks_failed} of {w.tasks_done} tasks failed"),
                Evidence("median of the other workers", pct(others)),
                Evidence(f"worker {wid} state", f"{w.state}, RSS {mib(rss)}"),
            ),
            confidence=0.85 if w.tasks_failed >= 30 else 0.65,
            impact="a bad worker, not a bad operation: a fresh process should stop the failures",
            action=Action("recycle", (("worker_id", wid),), f"recycle worker {wid} (graceful)"),
            chart=w.throughput,
            chart_title=f"worker {wid} throughput (tasks/s)",
        )
    ]
