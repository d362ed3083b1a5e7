"""SUBSCRIBE packed_rollups: the same rollups, histograms as bins; older clients see no change.

docs/PROTOCOL.md, "Packed histograms". A real endpoint server on a Unix socket, real clients.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from endpoint_fakes import frames_until, tasks

from poolmon.core.protocol import Frame, HistoryEnd, Rollups, Subscribe, encode
from poolmon.core.rollup import Rollup
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.endpoint import EndpointServer, History
from poolmon.runtime.telemetry import Telemetry

S = 1_000_000_000


def _wires(frames: list[Frame]) -> list[dict[str, object]]:
    return [w for f in frames if isinstance(f, Rollups) for w in f.rollups]


def _emit_for(telemetry: Telemetry, seconds: float) -> int:
    total, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        telemetry.emit_tasks(tasks(9, start=total), {})
        total += 9
        time.sleep(0.01)
    return total


def test_the_key_is_sent_only_when_asked() -> None:
    assert b"packed_rollups" not in encode(Subscribe())
    assert b"packed_rollups" in encode(Subscribe(packed_rollups=True))


def test_backfill_and_live_rollups_in_both_forms_describe_the_same_seconds(
    make_server: Callable[..., EndpointServer], telemetry: Telemetry
) -> None:
    server = make_server(history=History(close_grace_s=0), heartbeat_interval_s=0.1)
    _emit_for(telemetry, 1.3)
    deadline = time.monotonic() + 10
    while server.history.rollups_until_s <= time.time_ns() // S - 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    backfills: dict[bool, list[Rollup]] = {}
    lives: dict[bool, MonitorClient] = {}
    for packed in (False, True):
        client = MonitorClient(server.path, packed_rollups=packed)
        client.connect()
        assert client.welcome is not None
        assert "packed_rollups" in client.welcome.capabilities
        wires = _wires(frames_until(client, lambda f: isinstance(f, HistoryEnd)))
        assert wires, "the backfill holds closed seconds"
        assert {w["v"] for w in wires} == {2 if packed else 1}
        assert all(isinstance(w["d"][0], bytes if packed else list) for w in wires)  # type: ignore[index]
        backfills[packed] = [Rollup.from_wire(w) for w in wires]
        client.close()
        live = MonitorClient(server.path, live_tasks="rollups", packed_rollups=packed)
        live.connect()
        frames_until(live, lambda f: isinstance(f, HistoryEnd))
        lives[packed] = live
    assert backfills[True] == backfills[False]
    _emit_for(telemetry, 0.6)
    last = time.time_ns() // S
    got = {
        packed: _wires(frames_until(client, lambda f: isinstance(f, Rollups) and f.until_s > last))
        for packed, client in lives.items()
    }
    assert {w["v"] for w in got[True]} == {2}
    assert {w["v"] for w in got[False]} == {1}
    # a second closed between the two subscriptions came live to one, in the backfill of the other
    by_second = {
        packed: {r.second_ns: r for r in map(Rollup.from_wire, wires)}
        for packed, wires in got.items()
    }
    common = by_second[True].keys() & by_second[False].keys()
    assert common
    assert all(by_second[True][s] == by_second[False][s] for s in common)
    for client in lives.values():
        client.close()
