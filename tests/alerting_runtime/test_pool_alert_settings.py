"""Pool(alerts=..., alert_state_dir=...): bad values fail Pool(); no endpoint means no alerts."""

from __future__ import annotations

from pathlib import Path

import pytest

from poolmon.core import catalog as cat
from poolmon.core.alerts.notify_config import NotifyConfigError
from poolmon.core.alerts.rulefile import RuleFileError
from poolmon.core.errors import ConfigError
from poolmon.runtime.pool import Pool
from poolmon.runtime.telemetry import Telemetry
from poolmon.testing import capture_events


@pytest.mark.parametrize("value", [0, "", 3.5, ["rules.toml"]])
def test_a_value_alerts_cannot_mean_is_refused(value: object) -> None:
    with pytest.raises(ConfigError, match="alerts must be None"):
        Pool(1, alerts=value, monitor=False)  # type: ignore[arg-type]


def test_a_bad_state_dir_is_refused() -> None:
    with pytest.raises(ConfigError, match="alert_state_dir"):
        Pool(1, alert_state_dir=7, monitor=False)  # type: ignore[arg-type]


def test_a_missing_or_wrong_rule_file_fails_the_constructor(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="no such rule file"):
        Pool(1, alerts=tmp_path / "missing.toml", monitor=False)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nname = "X"\nkind = "threshold"\nmetric = "nope"\nvalue = 1\n')
    with pytest.raises(RuleFileError) as info:
        Pool(1, alerts=str(bad), monitor=False)
    assert str(info.value).startswith(f"{bad}:4: ")


def test_bad_channels_fail_the_constructor_too(tmp_path: Path, rules_file: Path) -> None:
    path = tmp_path / "channels.toml"
    path.write_text(rules_file.read_text() + '\n[[channels]]\nname = "x"\nkind = "pager"\n')
    with pytest.raises(NotifyConfigError, match="pager"):
        Pool(1, alerts=path, monitor=False)


@pytest.mark.integration
def test_without_an_endpoint_explicit_alerts_warn_and_defaults_stay_quiet(
    rules_file: Path,
) -> None:
    for alerts, warned in ((str(rules_file), True), (True, True), (None, False)):
        tel = Telemetry()
        with capture_events(cat.ERROR, telemetry=tel, tasks=False) as captured:
            pool = Pool(1, monitor=False, alerts=alerts, telemetry=tel)
            try:
                assert pool.wait_ready(30)
                assert pool.alerting is None
            finally:
                pool.shutdown(wait=True)
        notes = [e for e in captured.of(cat.ERROR) if e.metadata["category"] == "alerts"]
        assert len(notes) == int(warned), (alerts, notes)
        if warned:
            assert notes[0].metadata["severity"] == "warning"
            assert "monitor=False" in notes[0].metadata["message"]
