"""`SettingsFeedSource`: a test source whose pool answers the tuning commands from memory.

For snapshot and Pilot tests, which run the app without worker processes: the source answers
`settings`, `set`, `kill_worker`, `recycle_worker` and `resize` with the same all-or-nothing
checks as the pool (`poolmon.core.tuning.validate_changes`), and reports each command as the
`poolmon.control.command` event the pool's endpoint would emit, fed into the app's aggregator,
so the change log fills exactly as it does against a real pool. End-to-end tests use a real
pool instead (tests/ui/test_ui_tuning_e2e.py).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from poolmon.core.catalog import CONTROL_COMMAND
from poolmon.core.errors import ConfigError
from poolmon.core.events import Event
from poolmon.core.snapshot import PoolSnapshot
from poolmon.core.tuning import SettingSpec, spec_for, validate_changes
from poolmon.runtime.pool.settings import Current, specs_of
from poolmon.runtime.source import CommandResult
from poolmon.testing.clock import ManualClock
from poolmon.testing.feed_source import FeedSource

CLIENT = "poolmon attach"
"""The client name the events carry (as the app's own connection would)."""


def demo_settings(size: int = 4) -> list[SettingSpec]:
    """What a demo pool of `size` workers (max 16, 3 ops seen) lists, by the pool's rules."""
    return specs_of(
        Current(
            size=size,
            min_size=1,
            max_size=16,
            size_cap=64,
            ops=("fetch_url", "parse_json", "resize_image"),
        )
    )


class SettingsFeedSource(FeedSource):
    """A `FeedSource` whose pool answers tuning commands from in-memory settings.

    Each command is logged as the `poolmon.control.command` event the pool's endpoint would
    emit. Commands run in the app's worker threads, so their events wait in a locked list and
    reach the aggregator on the next `snapshot()` (the app's thread), as a `Monitor` would
    hand them over.

    Args:
        clock: The frozen clock shared with the engine.
        specs: The settings (default: `demo_settings()`).
        read_only: Report a read-only connection (every command is then refused).
        peer_pid: The pid the events name as the sender.
    """

    def __init__(
        self,
        clock: ManualClock,
        specs: list[SettingSpec] | None = None,
        *,
        read_only: bool = False,
        peer_pid: int = 4242,
    ) -> None:
        super().__init__(clock, read_only=read_only, responder=self._respond)
        self.specs = {s.key: s for s in (specs if specs is not None else demo_settings())}
        self.peer_pid = peer_pid
        self.killed: list[int] = []
        """Worker ids `kill_worker` was accepted for."""
        self.recycled: list[int] = []
        """Worker ids `recycle_worker` was accepted for."""
        self._lock = threading.Lock()
        self._events: list[Event] = []

    def command(self, name: str, args: Mapping[str, Any], timeout_s: float = 5.0) -> CommandResult:
        """As `FeedSource.command`, but `settings` is answered on a read-only connection too."""
        if name == "settings" and self.status().read_only:
            self.commands.append((name, dict(args)))
            return self._respond(name, args)
        return super().command(name, args, timeout_s)

    def snapshot(self, window_s: int) -> PoolSnapshot:
        """Ingest the events of commands answered since the last call, then snapshot."""
        with self._lock:
            events, self._events = self._events, []
        self.feed(events)
        return super().snapshot(window_s)

    def _respond(self, name: str, args: Mapping[str, Any]) -> CommandResult:
        """Answer one command as the pool would."""
        with self._lock:
            if name == "settings":
                rows = [s.to_wire() for s in self.specs.values()]
                return CommandResult(True, {"settings": rows})
            try:
                result = self._change(name, args)
            except ConfigError as exc:  # worded as the pool's endpoint words it
                reason = f"{name} refused, nothing changed: {exc}"
                self._log(name, args, "refused", reason, {})
                return CommandResult(False, reason=reason)
            self._log(name, args, "ok", "", result.get("changed", {}))
            return CommandResult(True, result)

    def _change(self, name: str, args: Mapping[str, Any]) -> dict[str, Any]:
        if name == "set":
            values = validate_changes(self.specs, dict(args.get("settings") or {}))
            changed = {}
            for key, value in values.items():
                spec = spec_for(self.specs, key)
                if spec.value != value:
                    changed[key] = [spec.value, value]
                    self.specs[key] = replace(spec, value=value)
            self._bound_size()
            return {"changed": changed}
        if name == "resize":
            self._change("set", {"settings": {"size": args.get("size")}})
            return {"size": args.get("size")}
        if name in ("kill_worker", "recycle_worker"):
            worker_id = args.get("worker_id")
            if not isinstance(worker_id, int) or worker_id < 0:
                raise ConfigError(f"argument 'worker_id' must be a worker id, got {worker_id!r}")
            (self.killed if name == "kill_worker" else self.recycled).append(worker_id)
            return {"worker_id": worker_id}
        raise ConfigError(f"unknown command {name!r}")

    def _bound_size(self) -> None:
        """Keep size's range equal to min_size..max_size, as the pool describes it."""
        lo, hi = self.specs["min_size"].value, self.specs["max_size"].value
        assert isinstance(lo, int)
        assert isinstance(hi, int)
        self.specs["size"] = replace(self.specs["size"], min=max(1, lo), max=hi)

    def _log(
        self,
        name: str,
        args: Mapping[str, Any],
        result: str,
        reason: str,
        changes: Mapping[str, Any],
    ) -> None:
        meta = {
            "pool": "",
            "command": name,
            "args": dict(args),
            "result": result,
            "reason": reason,
            "peer_pid": self.peer_pid,
            "client": CLIENT,
            "changes": dict(changes),
        }
        self._events.append(Event(CONTROL_COMMAND, self.clock.time_ns(), {}, meta))


def demo_tuning_source(*, read_only: bool = False, seconds: int = 60) -> SettingsFeedSource:
    """The seeded demo stream through the real aggregator, with one earlier change logged.

    Half-way through, `poolmon tune` (pid 812) set task_timeout_s none -> 30, so the change
    log has an entry from another client before the test does anything.
    """
    from poolmon.testing.streams import StreamGenerator, StreamSpec

    clock = ManualClock()
    source = SettingsFeedSource(clock, read_only=read_only)
    generator = StreamGenerator(StreamSpec(), clock.time_ns())
    source.attach(generator.pool_info())
    source.play(generator, seconds // 2)
    meta = {
        "pool": generator.pool_info().name,
        "command": "set",
        "args": {"settings": {"task_timeout_s": 30}},
        "result": "ok",
        "reason": "",
        "peer_pid": 812,
        "client": "poolmon tune",
        "changes": {"task_timeout_s": [None, 30.0]},
    }
    source.feed([Event(CONTROL_COMMAND, clock.time_ns(), {}, meta)])
    source.specs["task_timeout_s"] = replace(source.specs["task_timeout_s"], value=30.0)
    source.play(generator, seconds - seconds // 2)
    return source
