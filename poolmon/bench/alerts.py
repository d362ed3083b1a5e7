"""`python -m poolmon.bench alerts`: what alerting costs and how fast it speaks, side by side.

Three figures, one run:

* ``figures.eval_ms_1000_rules`` (target <= 10): one evaluation tick of 1,000 rules over 64
  workers x 20 operations, median (the engine's own `poolmon.bench.alerts_eval`).
* ``ratios.throughput_alerting_on_vs_off_trivial`` (target >= 0.97): one pool (2 workers, its
  monitor endpoint up, the built-in rule pack loaded) running trivial tasks with its alert
  service evaluating once a second ("on") or paused ("off": the hook removed, everything else
  identical, the idle notifier thread included). Why one pool toggled and not two pools: two
  identical pools differ by several percent on a shared 2-core machine, as much as what is
  measured (see bench/telemetry.py).
  Off and on alternate in ABBA pairs; the ratio is the median of per-pair ratios with a
  bootstrap 95 % interval, and an off-vs-off control says what the machine gives two
  identical runs. Each run lasts a few seconds so that "on" always contains evaluations.
* ``figures.fire_to_webhook_ms`` (target <= 1500): a real pool whose rule has `for = 0`,
  from the evaluation at which the condition is true to the POST arriving at a loopback HTTP
  server, plus the whole span from the failing task's result (`poolmon.bench.alerts_pool`),
  and the notifier alone on a synthetic feed (`poolmon.bench.notify_latency`) beside them.
"""

from __future__ import annotations

import argparse
from typing import Any

from poolmon.bench.alerts_pool import alerting_pool
from poolmon.bench.common import machine, median
from poolmon.bench.telemetry import _throughput, median_ci95, paired


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Suite options: which parts to run and how hard."""
    parser.add_argument(
        "--part",
        choices=("all", "eval", "throughput", "webhook"),
        default="all",
        help="run only one of the three measurements",
    )
    parser.add_argument("--reps", type=int, default=None, help="pairs / repetitions")


def run_throughput(*, quick: bool, reps: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Trivial-task throughput with the pool's alert service on vs paused; (figures, ratios)."""
    from poolmon.bench.tasks import ident

    n = 100_000 if quick else 1_000_000
    with alerting_pool("bench-alerts") as (pool, service):
        for future in [pool.submit(ident, i) for i in range(5_000)]:  # warm up
            future.result(60)
        timed = _throughput(pool, ident, 1, n)
        evaluations = [0]
        hook_ns_before, evals_before = service.evaluation_ns, service.evaluations

        def off() -> float:
            service.pause()
            return timed()

        def on() -> float:
            service.resume()
            before = service.evaluations
            rate = timed()
            evaluations[0] += service.evaluations - before
            return rate

        offs, ons, pair_ratios = paired(off, on, reps)
        _, _, aa = paired(off, off, max(3, reps // 2))
        service.resume()
        rules = service.view.rules
        hook_evals = service.evaluations - evals_before
        hook_ms = (service.evaluation_ns - hook_ns_before) / 1e6 / max(1, hook_evals)
    low, high = median_ci95(pair_ratios)
    figures = {
        "trivial_tasks_per_s_alerting_off": round(median(offs), 1),
        "trivial_tasks_per_s_alerting_on": round(median(ons), 1),
        "trivial_ratio_ci95": [round(low, 3), round(high, 3)],
        "trivial_pair_ratio_min": round(min(pair_ratios), 3),
        "trivial_pair_ratio_max": round(max(pair_ratios), 3),
        "aa_trivial_ratio_median": round(median(aa), 3),
        "aa_trivial_ratio_ci95": [round(v, 3) for v in median_ci95(aa)],
        "evaluations_during_on_runs": evaluations[0],
        "hook_ms_per_evaluation_in_pool": round(hook_ms, 3),
        "rules_evaluated": rules,
        "tasks_per_run": n,
        "pairs": reps,
    }
    return figures, {"throughput_alerting_on_vs_off_trivial": round(median(pair_ratios), 3)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected parts and return the suite's result dict."""
    quick = bool(getattr(args, "quick", False))
    part = getattr(args, "part", "all")
    reps = getattr(args, "reps", None)
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    config: dict[str, Any] = {"part": part, "quick": quick}
    if part in ("all", "eval"):
        from poolmon.bench.alerts_eval import measure_eval

        ev = measure_eval(reps=reps or (5 if quick else 31))
        figures["eval_ms_1000_rules"] = round(ev["median_ms"], 3)
        figures["eval_detail"] = ev
    if part in ("all", "throughput"):
        pairs = reps or (5 if quick else 31)
        f, r = run_throughput(quick=quick, reps=pairs)
        figures["throughput"] = f
        ratios.update(r)
    if part in ("all", "webhook"):
        from poolmon.bench.alerts_pool import measure_pool_fire_to_webhook
        from poolmon.bench.notify_latency import measure_fire_to_webhook

        hook = measure_pool_fire_to_webhook(reps or (3 if quick else 11))
        figures["fire_to_webhook_ms"] = hook["fire_to_webhook_ms"]
        figures["fire_to_webhook_pool"] = hook
        figures["fire_to_webhook_notifier_only"] = measure_fire_to_webhook(
            reps or (3 if quick else 11)
        )
    return {
        "suite": "alerts",
        "machine": machine(),
        "config": config,
        "figures": figures,
        "ratios": ratios,
        "targets": {
            "eval_ms_1000_rules": "<= 10",
            "throughput_alerting_on_vs_off_trivial": ">= 0.97",
            "fire_to_webhook_ms": "<= 1500",
        },
    }
