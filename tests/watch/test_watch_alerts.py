"""poolmon_alerts: the pool's alert state, through the real aggregator, as an ALERTS-like series."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from poolmon.core.aggregator import Aggregator
from poolmon.runtime.watch.collector import WatchCollector
from poolmon.runtime.watch.figures import read_figures
from poolmon.testing.alert_samples import alert_state_event, sample_view
from poolmon.testing.clock import ManualClock


def _exposition(agg: Aggregator) -> str:
    reg = CollectorRegistry(auto_describe=False)
    figures = read_figures(
        agg, pool="demo", socket="/s/demo.sock", state="live", heard=True, lag_s=0.2
    )
    reg.register(WatchCollector(lambda: [figures]))
    return generate_latest(reg).decode()


def test_active_alerts_are_counted_by_rule_severity_and_state() -> None:
    clock = ManualClock()
    agg = Aggregator(clock)
    assert "poolmon_alerts{" not in _exposition(agg)  # no state received: no series, not zeros
    view = sample_view(clock.time_ns())
    agg.ingest_event(alert_state_event(view))
    body = _exposition(agg)
    expected: dict[tuple[str, str, str], int] = {}
    for a in view.alerts:
        if a.state in ("pending", "firing"):
            key = (a.rule, a.severity, a.state)
            expected[key] = expected.get(key, 0) + 1
    assert expected, "the sample view has active alerts"
    lines = [line for line in body.splitlines() if line.startswith("poolmon_alerts{")]
    assert len(lines) == len(expected)
    for (rule, severity, state), n in expected.items():
        line = (
            f'poolmon_alerts{{alertname="{rule}",alertstate="{state}",pool="demo",'
            f'severity="{severity}"}} {float(n)}'
        )
        assert line in lines, line
    assert not any('alertstate="resolved"' in line for line in lines)
