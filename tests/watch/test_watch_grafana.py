"""The Grafana dashboard only queries series the watcher exports, and covers what it should."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from watch_dashboard import expressions, load, metric_names

from poolmon.runtime.watch.collector import WatchCollector

_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def exported_series() -> set[str]:
    """Every series name the watcher can emit, from its families' TYPE lines."""
    reg = CollectorRegistry(auto_describe=False)
    collector = WatchCollector(list)
    collector.last_scrape_s = 0.0
    reg.register(collector)
    names: set[str] = set()
    for line in generate_latest(reg).decode().splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            base = name.removesuffix("_total") if kind == "counter" else name
            names.update(base + s for s in _SUFFIXES[kind])
    return names


def test_every_query_names_only_exported_series() -> None:
    exported = exported_series()
    assert "poolmon_task_duration_seconds_bucket" in exported
    assert "poolmon_tasks_total" in exported
    for expr in expressions():
        names = metric_names(expr)
        assert names, f"no poolmon metric in {expr!r}"
        assert names <= exported, f"{expr!r} names {sorted(names - exported)}, not exported"


def test_dashboard_covers_the_issue() -> None:
    doc = load()
    titles = " | ".join(p["title"].lower() for p in doc["panels"])
    for word in (
        "throughput",
        "errors by operation",
        "percentiles",
        "heatmap",
        "rss",
        "cpu",
        "queue",
        "utilization",
        "alerts",
    ):
        assert word in titles, word
    kinds = {p["type"] for p in doc["panels"]}
    assert "heatmap" in kinds
    exprs = " ".join(expressions())
    assert "histogram_quantile(" in exprs
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids))
