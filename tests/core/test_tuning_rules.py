"""The pure rules every tuning path shares: parsing, ranges, all-or-nothing, the change log."""

from __future__ import annotations

import re
from collections import deque

import pytest

from poolmon.core.catalog import CONTROL_COMMAND
from poolmon.core.control_log import CONTROL_LOG_SIZE, log_control
from poolmon.core.errors import ConfigError
from poolmon.core.events import Event
from poolmon.core.snapshot import ControlChange
from poolmon.core.tuning import SettingSpec, validate_changes

TIMEOUT = SettingSpec(
    "task_timeout_s", None, "float", 0.01, 60.0, unit="s", nullable=True, none_means="no timeout"
)
SPECS = {
    s.key: s
    for s in (
        SettingSpec("size", 4, "int", 1, 8, unit="workers"),
        SettingSpec("min_size", 1, "int", 0, 64, unit="workers"),
        SettingSpec("max_size", 8, "int", 1, 64, unit="workers"),
        TIMEOUT,
        SettingSpec("on_queue_full", "raise", "choice", choices=("raise", "block")),
        SettingSpec("rate", 1.0, "choice", choices=(1.0, 0.5, 0.1)),
        SettingSpec("fixed", 3, "int", 1, 9, live=False),
    )
}


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("size", " 6 ", 6),
        ("task_timeout_s", "2.5", 2.5),
        ("task_timeout_s", "none", None),
        ("task_timeout_s", "OFF", None),
        ("on_queue_full", "block", "block"),
        ("rate", "0.5", 0.5),
    ],
)
def test_parse(key: str, text: str, value: object) -> None:
    assert SPECS[key].parse(text) == value


@pytest.mark.parametrize(
    ("key", "text", "reason"),
    [
        ("size", "0", "size=0 is outside 1..8 workers"),
        ("size", "x", "size must be a whole number (1..8), got 'x'"),
        ("size", "6.5", "size must be a whole number (1..8), got '6.5'"),
        ("size", "none", "size needs a value (1..8)"),
        ("task_timeout_s", "0.001", "task_timeout_s=0.001 is outside 0.01..60 s or none"),
        ("task_timeout_s", "nan", "task_timeout_s must be a finite number"),
        ("on_queue_full", "drop", "on_queue_full must be one of raise | block, got 'drop'"),
        ("rate", "0.3", "rate must be one of 1 | 0.5 | 0.1, got 0.3"),
    ],
)
def test_refusals_say_what_is_accepted(key: str, text: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(reason)):
        SPECS[key].parse(text)


def test_check_refuses_bools_and_wrong_types_from_the_wire() -> None:
    with pytest.raises(ConfigError):
        SPECS["size"].check(True)
    with pytest.raises(ConfigError):
        SPECS["size"].check("4")
    assert SPECS["task_timeout_s"].check(3) == 3.0


def test_wire_round_trip() -> None:
    for spec in SPECS.values():
        assert SettingSpec.from_wire(spec.to_wire()) == spec
    with pytest.raises(ConfigError, match="unknown kind"):
        SettingSpec.from_wire({"key": "x", "kind": "complex"})


def test_validate_is_all_or_nothing_with_every_reason() -> None:
    with pytest.raises(ConfigError) as info:
        validate_changes(SPECS, {"size": 99, "bogus": 1, "fixed": 4, "task_timeout_s": 5})
    text = str(info.value)
    assert "size=99 is outside 1..8 workers" in text
    assert "unknown setting 'bogus'" in text
    assert "fixed cannot change while the pool runs (needs a restart)" in text
    with pytest.raises(ConfigError, match="set needs at least one"):
        validate_changes(SPECS, {})


def test_size_is_checked_against_the_bounds_of_the_end_state() -> None:
    assert validate_changes(SPECS, {"size": 12, "max_size": 12}) == {"size": 12, "max_size": 12}
    with pytest.raises(ConfigError, match="size 12 would be above max_size 10"):
        validate_changes(SPECS, {"size": 12, "max_size": 10})
    with pytest.raises(ConfigError, match="size 4 would be below min_size 5"):
        validate_changes(SPECS, {"min_size": 5})
    with pytest.raises(ConfigError, match="min_size 9 would be above max_size 8"):
        validate_changes(SPECS, {"min_size": 9, "size": 8})


def test_unknown_op_timeouts_take_the_default_timeouts_range() -> None:
    assert validate_changes(SPECS, {"op_timeout_s.slow": 5}) == {"op_timeout_s.slow": 5.0}
    with pytest.raises(ConfigError, match=re.escape("op_timeout_s.slow=100 is outside 0.01..60")):
        validate_changes(SPECS, {"op_timeout_s.slow": 100})
    with pytest.raises(ConfigError, match="operation name"):
        validate_changes(SPECS, {"op_timeout_s.": 5})


def command_event(ts: int, **meta: object) -> Event:
    base = {"command": "set", "result": "ok", "args": {"settings": {"size": 6}}}
    return Event(CONTROL_COMMAND, ts, {}, {**base, **meta})


def test_change_log_keeps_the_last_entries_once() -> None:
    log: deque[ControlChange] = deque(maxlen=CONTROL_LOG_SIZE)
    event = command_event(1, changes={"size": [4, 6]}, client="poolmon tune", peer_pid=9)
    log_control(log, event)
    log_control(log, event)  # replayed after a reconnect: logged once
    assert len(log) == 1
    entry = log[0]
    assert entry.changes == (("size", 4, 6),)
    assert (entry.client, entry.peer_pid, entry.at_ns) == ("poolmon tune", 9, 1)
    assert entry.args == (("settings", (("size", 6),)),)
    for ts in range(2, 100):
        log_control(log, command_event(ts))
    assert len(log) == CONTROL_LOG_SIZE
    assert log[-1].at_ns == 99
    odd = Event(CONTROL_COMMAND, 5, {}, {"changes": {"size": "garbage"}})
    assert log_control(log, odd) is None
    assert log[-1].command == "?"
    assert log[-1].changes == ()
