"""docs/ALERTS.md documents every metric, rule kind, rule-file key and default rule."""

from __future__ import annotations

from pathlib import Path

from poolmon.core.alerts.defaults import default_rules
from poolmon.core.alerts.metrics import METRICS
from poolmon.core.alerts.rules import KINDS
from poolmon.core.alerts.schema import ALL_KEYS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "ALERTS.md").read_text(encoding="utf-8")


def test_every_name_is_documented() -> None:
    missing = [
        name for name in (*METRICS, *default_rules().names(), *ALL_KEYS) if f"`{name}`" not in DOC
    ]
    missing += [k for k in KINDS if f"**{k}**" not in DOC]
    assert missing == []


def test_it_ends_with_the_two_pointers() -> None:
    tail = DOC.split("\n## ")[-2:]
    assert [t.splitlines()[0] for t in tail] == [
        "Notification channels",
        "Running alerts in a pool",
    ]
    assert "ALERTS_CHANNELS.md" in tail[0]
    assert "ALERTS_RUNTIME.md" in tail[1]
