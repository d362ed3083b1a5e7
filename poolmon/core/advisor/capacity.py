"""Capacity findings: grow, shrink, and CPU-bound work that more workers cannot speed up.

The question an operator asks first is "are there enough workers?", and the honest answer
depends on what the workers do while busy:

* utilization above 80 % over the last minute **and** a queue that grows (or a backlog of more
  than two tasks per worker) means work arrives faster than it is served. If each busy worker
  uses little CPU (it waits on IO, a lock, a remote service), more workers serve more: grow,
  to the size the measured arrival rate needs (at most doubling per step).
* if each busy worker uses most of a core, the work is CPU-bound: workers beyond the cores
  only add context switches, so the advice is to go down to the core count (when above it) or
  to speed up the code, never to grow;
* utilization below 60 % over 1, 5 and 15 minutes with at least 10 minutes of data and no
  queue: shrink to the size that would run at ~70 % (an "info" suggestion: it saves memory,
  it fixes nothing).

CPU per busy worker = mean of the summed worker CPU (% of one core) / mean busy workers.
On a shared machine a CPU-bound worker may get little CPU and still be CPU-bound: it is
*runnable* (waiting for a core) whenever sampled, where a worker waiting on IO or a lock is
*sleeping*. So the runnable share (workers sampled "running" / busy workers) counts too:
>= 60 % runnable is CPU-limited whatever the CPU figure; waiting on IO needs <= 35 % CPU and
<= 30 % runnable (or <= 15 % CPU when the state is not sampled).
"""

from __future__ import annotations

import math

from poolmon.core.advisor.inputs import AdvisorInput, Thresholds, trend
from poolmon.core.advisor.model import Action, Evidence, Finding
from poolmon.core.advisor.words import pct
from poolmon.core.snapshot import LoadSignals

SHRINK_TARGET_UTILIZATION = 0.7
"""A shrink aims for this utilization: inside the 60-80 % band, with headroom for bursts."""


def runnable_share(load: LoadSignals) -> float | None:
    """Share of busy workers sampled runnable (wanting a CPU); None when unknown."""
    running, busy = load.workers_running_mean, load.busy_mean
    if running is None or busy is None or busy < 0.5:
        return None
    return min(1.0, running / busy)


def cpu_per_busy_worker(load: LoadSignals) -> float | None:
    """Mean CPU (% of one core) of a busy worker over the window; None when unknown."""
    cpu, busy = load.workers_cpu_percent_mean, load.busy_mean
    if cpu is None or busy is None or busy < 0.5:
        return None
    return cpu / busy


def _known_size(size: int | None) -> int:
    """The pool size a finding is about; `capacity()` never asks without one."""
    if size is None:
        raise ValueError("a capacity finding needs the pool's size (capacity() checks it)")
    return size


def capacity(inp: AdvisorInput, th: Thresholds) -> list[Finding]:
    """Grow, CPU-bound and shrink findings (see module doc)."""
    s = inp.snap(60)
    if s.covered_s < th.min_covered_s or not s.size:
        return []
    load = s.load
    util = load.utilization_mean
    cpu = cpu_per_busy_worker(load)
    runnable = runnable_share(load)
    cpu_limited = cpu is not None and (
        cpu >= th.cpu_bound_percent or (runnable is not None and runnable >= th.cpu_runnable)
    )
    waiting = (
        cpu is not None
        and cpu <= th.io_bound_percent
        and (runnable <= th.io_runnable if runnable is not None else cpu <= th.io_cpu_unknown)
    )
    slope, r2, _ = trend(load.queue_depth)
    qmean = load.queue_depth_mean or 0.0
    backlog = qmean >= 2 * s.size
    growing = (slope >= th.queue_growth_per_s and qmean >= 1) or backlog
    ev_util = Evidence("utilization", pct(util), 60)
    ev_queue = Evidence(
        "queue", f"{s.queue_depth} now, mean {qmean:.1f}, growing {slope:+.1f}/s", 60
    )
    ev_cpu = Evidence(
        "CPU per busy worker",
        ("—" if cpu is None else f"{cpu:.0f} % of a core ({inp.cores} cores)")
        + ("" if runnable is None else f", runnable {runnable:.0%} of the time"),
        60,
    )
    out: list[Finding] = []
    if util is not None and util > th.grow_utilization and growing:
        if cpu_limited and cpu is not None:
            out.append(_cpu_bound(inp, th, cpu, (ev_util, ev_queue, ev_cpu), queue=True))
        else:
            out.append(_grow(inp, th, slope, r2, backlog, waiting, (ev_util, ev_queue, ev_cpu)))
    elif cpu_limited and cpu is not None and s.size > inp.cores and (util or 0) > 0.5:
        out.append(_cpu_bound(inp, th, cpu, (ev_util, ev_cpu), queue=False))
    shrink = _shrink(inp, th)
    if shrink is not None:
        out.append(shrink)
    return out


def _grow(
    inp: AdvisorInput,
    th: Thresholds,
    slope: float,
    r2: float,
    backlog: bool,
    waiting: bool,
    evidence: tuple[Evidence, ...],
) -> Finding:
    s = inp.snap(60)
    size, thr = _known_size(s.size), s.throughput_per_s or 0.0
    arrival = thr + max(slope, 0.0)
    if thr > 0:
        wanted = math.ceil(size * arrival / thr * 1.1)
    else:
        wanted = size + 1
    cap = math.floor(size * th.max_grow_factor)
    if inp.max_size is not None:
        cap = min(cap, inp.max_size)
    target = max(size + 1, min(wanted, cap))
    if inp.max_size is not None:
        target = min(target, inp.max_size)
    confidence = 0.45
    if waiting:
        confidence += 0.2
    if s.covered_s >= 45:
        confidence += 0.15
    if r2 >= 0.6 or backlog:
        confidence += 0.15
    if not waiting:
        confidence = min(confidence, 0.75)  # some CPU use: growing may only add contention
    why = (
        "busy workers wait (IO, locks, remote calls), so more workers serve more"
        if waiting
        else "busy workers use some CPU; growing helps only while cores are free"
    )
    at_max = inp.max_size is not None and size >= inp.max_size
    qmean = s.load.queue_depth_mean or 0.0
    return Finding(
        kind="grow",
        key="grow",
        severity="critical" if qmean >= 10 * size else "warning",
        title=(
            f"Work arrives faster than {size} workers serve it: grow to {target}"
            if not at_max
            else f"Work arrives faster than {size} workers serve it, and the pool is at max_size"
        ),
        evidence=(
            *evidence,
            Evidence("throughput", f"{thr:.1f} tasks/s, arriving ~{arrival:.1f}/s", 60),
            Evidence("why growing helps", why),
        ),
        confidence=round(min(confidence, 1.0), 2),
        impact=(
            f"up to {target / size:.1f}x the throughput (to ~{arrival:.0f} tasks/s); "
            "the queue stops growing"
        ),
        action=(
            Action("resize", (("size", target),), f"resize from {size} to {target} workers")
            if not at_max
            else Action("hint", (), "raise max_size, or shed load (queue_bound)")
        ),
        chart=s.load.queue_depth,
        chart_title="queue depth (tasks), last minute",
    )


def _cpu_bound(
    inp: AdvisorInput, th: Thresholds, cpu: float, evidence: tuple[Evidence, ...], *, queue: bool
) -> Finding:
    s = inp.snap(60)
    size = _known_size(s.size)
    target = max(inp.cores, inp.min_size, 1)
    over = size > target
    if over:
        action = Action(
            "resize", (("size", target),), f"resize from {size} to {target} workers (the cores)"
        )
        impact = "same throughput with fewer context switches and less memory"
    else:
        action = Action(
            "hint",
            (),
            "speed up the task code (profile the busiest operation) or run on more cores; "
            "workers beyond the cores add switching, not throughput",
        )
        impact = "only faster code or more cores raise throughput"
    busiest = max(s.operations, key=lambda o: o.count * (o.latency.mean_ns or 0), default=None)
    extra = () if busiest is None else (Evidence("busiest operation", busiest.name, 60),)
    return Finding(
        kind="cpu_bound",
        key="cpu_bound",
        severity="warning" if queue or over else "info",
        title=(
            f"CPU-bound: a busy worker uses {cpu:.0f} % of a core; "
            + (
                f"{size} workers on {inp.cores} cores make it worse"
                if over
                else "more workers will not help"
            )
        ),
        evidence=(*evidence, Evidence("workers", f"{size} on {inp.cores} cores"), *extra),
        confidence=0.85 if s.covered_s >= 45 else 0.6,
        impact=impact,
        action=action,
        chart=s.throughput,
        chart_title="throughput (tasks/s), last minute",
    )


def _shrink(inp: AdvisorInput, th: Thresholds) -> Finding | None:
    s900 = inp.snap(900)
    size = inp.snap(60).size or s900.size
    if size is None or s900.covered_s < th.shrink_covered_s or size <= max(1, inp.min_size):
        return None
    utils = [inp.snap(w).load.utilization_mean for w in (60, 300, 900)]
    if any(u is None or u >= th.shrink_utilization for u in utils):
        return None
    if (s900.load.queue_depth_mean or 0.0) >= 0.5:
        return None
    busy_peak = max(inp.snap(w).load.busy_mean or 0.0 for w in (60, 300, 900))
    target = max(inp.min_size, 1, math.ceil(busy_peak / SHRINK_TARGET_UTILIZATION))
    if target >= size:
        return None
    u900 = utils[2] or 0.0
    return Finding(
        kind="shrink",
        key="shrink",
        severity="info",
        title=f"Workers idle {pct(1 - u900)} of the time for 15 min: shrink to {target}",
        evidence=(
            Evidence("utilization", f"{pct(utils[0])} / {pct(utils[1])} / {pct(u900)}", 900),
            Evidence("busiest mean", f"{busy_peak:.1f} of {size} workers busy"),
            Evidence("queue", f"mean {s900.load.queue_depth_mean or 0.0:.2f}", 900),
        ),
        confidence=0.85 if u900 < 0.45 else 0.6,
        impact=f"{size - target} fewer processes (memory, CPU); ~70 % utilization at {target}",
        action=Action("resize", (("size", target),), f"resize from {size} to {target} workers"),
        chart=s900.throughput,
        chart_title="throughput (tasks/s), last 15 min",
    )
