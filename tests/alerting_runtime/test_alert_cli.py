"""`poolmon alerts|ack|silence|silences|unsilence` against real pools, and `alerts check`."""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alert_runtime_helpers import RULES, fire

from poolmon.cli import main
from poolmon.runtime.alerting.cli import CliError, human_duration, parse_duration

ME = pwd.getpwuid(os.getuid()).pw_name


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.integration
def test_list_ack_silence_and_unsilence_from_the_command_line(
    make_pool: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    pool = make_pool()
    sock = pool.monitor
    alert = fire(pool, "parse")

    code, out, _ = run(capsys, "alerts", sock)
    assert code == 0
    assert f"pool {pool.name}" in out
    row = next(line for line in out.splitlines() if line.startswith(alert.id))
    assert "critical" in row
    assert "firing" in row
    assert "op=parse" in row
    assert "100 % vs 0 %" in row  # error_rate, in its unit

    code, out, _ = run(capsys, "ack", sock, alert.id, "--comment", "looking")
    assert (code, out.strip()) == (0, f"acknowledged {alert.id} as {ME}")
    code, out, _ = run(capsys, "alerts", sock, "--json")
    view = json.loads(out)["view"]
    (acked,) = [a for a in view["alerts"] if a["id"] == alert.id]
    assert acked["ack"][0] == ME
    assert acked["ack"][2] == "looking"

    code, out, _ = run(capsys, "silence", sock, "alertname=OpFailing", "op=~pa.*", "--for", "15m")
    assert code == 0
    sid = out.split()[1]
    code, out, _ = run(capsys, "silences", sock)
    assert code == 0
    assert sid in out
    assert "alertname=OpFailing op=~pa.*" in out
    assert ME in out
    code, out, _ = run(capsys, "silences", sock, "--json")
    (silence,) = json.loads(out)
    assert silence["id"] == sid
    assert 14 * 60 < (silence["ends_at_ns"] - silence["starts_at_ns"]) / 1e9 <= 15 * 60
    code, out, _ = run(capsys, "alerts", sock)
    assert "silenced" in next(line for line in out.splitlines() if line.startswith(alert.id))

    assert run(capsys, "unsilence", sock, sid)[:2] == (0, f"removed silence {sid}\n")
    code, out, _ = run(capsys, "silences", sock)
    assert out.strip() == "no silences"


@pytest.mark.integration
def test_clear_one_line_errors(
    make_pool: Callable[..., Any], capsys: pytest.CaptureFixture[str], short_dir: Path
) -> None:
    pool = make_pool()
    sock = pool.monitor
    code, _, err = run(capsys, "ack", sock, "nosuchid")
    assert code == 2
    refused = f"poolmon ack: pool {pool.name!r} refused: no active alert with id 'nosuchid'"
    assert err.strip() == refused
    code, _, err = run(capsys, "silence", sock, "op~parse", "--for", "1h")
    assert code == 2
    assert "is not label=value" in err
    code, _, err = run(capsys, "silence", sock, "team=ops", "--for", "1h")
    assert code == 2
    assert "not team" in err
    code, _, err = run(capsys, "silence", sock, "op=parse", "--for", "soon")
    assert code == 2
    assert "duration" in err
    code, _, err = run(capsys, "silence", sock, "op=parse")
    assert code == 2
    assert "--for" in err
    code, _, err = run(capsys, "silence", sock, "op=parse", "--until", "2001-01-01T00:00")
    assert code == 2
    assert "in the past" in err
    code, _, err = run(capsys, "silence", sock, "op=parse", "--until", "tomorrow")
    assert code == 2
    assert "not an ISO time" in err
    later = (datetime.now() + timedelta(hours=2)).isoformat(timespec="seconds")
    code, out, _ = run(capsys, "silence", sock, "op=parse", "--until", later)
    assert code == 0
    assert out.endswith(f"until {later}\n")
    code, _, err = run(capsys, "unsilence", sock, "s-nope")
    assert code == 2
    assert "s-nope" in err
    code, _, err = run(capsys, "alerts", str(short_dir / "ghost.sock"))
    assert code == 2
    assert "no pool" in err
    assert "poolmon ls" in err
    off = make_pool(alerts=False)
    code, _, err = run(capsys, "alerts", off.monitor)
    assert code == 2
    assert "does not run alerting" in err
    assert len(err.strip().splitlines()) == 1


def test_check_accepts_a_good_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "good.toml"
    path.write_text(RULES)
    code, out, err = run(capsys, "alerts", "check", str(path))
    assert (code, err) == (0, "")
    assert out == "ok: 1 rule (1 threshold); no channels: alerts go to the log\n"


def test_check_lists_every_problem_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        RULES.replace('window = "10s"', 'window = "10x"')
        + '\n[[rules]]\nname = "Two"\nkind = "threshold"\nmetric = "eror_rate"\nvalue = 1\n'
    )
    code, out, err = run(capsys, "alerts", "check", str(path))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) >= 2
    assert lines[0].startswith(f"{path}:7: bad duration")  # window = "10x"
    assert any(line.startswith(f"{path}:17: ") and "eror_rate" in line for line in lines)


def test_check_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "alerts", "check")
    assert code == 2
    assert "usage: poolmon alerts check FILE" in err


def test_durations_and_ages() -> None:
    assert parse_duration("15m") == 900
    assert parse_duration("1h30m") == 5400
    assert parse_duration("1d") == 86400
    for bad in ("", "soon", "0s", "-5m"):
        with pytest.raises(CliError):
            parse_duration(bad)
    assert human_duration(45 * 10**9) == "45s"
    assert human_duration(3725 * 10**9) == "1h02m"


@pytest.mark.integration
def test_pools_are_found_by_name(
    make_pool: Callable[..., Any],
    capsys: pytest.CaptureFixture[str],
    short_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir))
    pool = make_pool("named", monitor=True)
    assert pool.monitor is True
    code, out, _ = run(capsys, "alerts", "named")
    assert code == 0
    assert out.startswith("pool named  1 rule  ")
    code, out, _ = run(capsys, "silences")  # the only pool running
    assert (code, out) == (0, "no silences\n")
    code, _, err = run(capsys, "ack", "ghost", "x1")
    assert code == 2
    assert "no pool named 'ghost'" in err


def test_since_counts_from_the_current_state_as_the_app_does() -> None:
    """Pending at -8m44s, firing at -6m34s: SINCE says 6m34s, the app's For column too.

    Before, the CLI counted from when it went pending (8m44s).
    """
    from poolmon.core.alerts.model import Alert, AlertsView
    from poolmon.runtime.alerting.cli import format_alerts
    from poolmon.widgets._alert_format import since

    now = 10**18
    alert = Alert(
        id="a1",
        fingerprint="f",
        rule="FlakyErr",
        labels=(("alertname", "FlakyErr"),),
        state="firing",
        active_since_ns=now - (8 * 60 + 44) * 10**9,
        fired_at_ns=now - (6 * 60 + 34) * 10**9,
    )
    table = format_alerts(AlertsView(pool="p", evaluated_at_ns=now, alerts=(alert,)), now)
    row = table.splitlines()[-1].split()
    assert "6m34s" in row
    assert "8m44s" not in table
    assert since(alert, now) == "6m34s"
