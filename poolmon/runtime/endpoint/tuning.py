"""The tuning commands a monitor may send: `settings`, `set` and `kill_worker`.

Why apart from control.py: they act on the pool's settings registry
(`poolmon.runtime.pool.settings`), which knows each setting's range from the pool's own
configuration; the endpoint only translates the wire form and turns the pool's refusals into
`Refused` with the pool's reason. `set` replies `{changed: {key: [from, to]}}`, which the
command handler copies into the `poolmon.control.command` event's `changes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from poolmon.core.errors import ConfigError
from poolmon.core.tuning import SettingSpec, Value
from poolmon.runtime.endpoint.control import CommandHandler, Refused


@runtime_checkable
class Tunable(Protocol):
    """What the tuning commands need from a pool (`poolmon.Pool` provides it)."""

    def settings(self) -> list[SettingSpec]:
        """Every run-time setting, value and range."""
        ...

    def apply_settings(
        self, changes: Mapping[str, object], *, reason: Any = "user"
    ) -> dict[str, tuple[Value, Value]]:
        """Apply changes all or nothing; ConfigError with the reasons when refused."""
        ...

    def kill_worker(self, worker_id: int, /) -> None:
        """SIGKILL one worker; its running task fails, its slot is refilled."""
        ...


def register_tuning(handler: CommandHandler, pool: Tunable) -> None:
    """Add `settings` (read), `set` and `kill_worker` to an endpoint's commands."""

    def settings(args: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"settings": [spec.to_wire() for spec in pool.settings()]}

    def set_(args: Mapping[str, Any]) -> Mapping[str, Any]:
        changes = args.get("settings")
        if not isinstance(changes, Mapping) or not changes:
            raise Refused("set needs {settings: {key: value, ...}} with at least one setting")
        try:
            changed = pool.apply_settings(changes, reason="control")
        except ConfigError as exc:
            raise Refused(f"set refused, nothing changed: {exc}") from None
        return {"changed": {key: [old, new] for key, (old, new) in changed.items()}}

    def kill_worker(args: Mapping[str, Any]) -> Mapping[str, Any]:
        worker_id = args.get("worker_id")
        if isinstance(worker_id, bool) or not isinstance(worker_id, int) or worker_id < 0:
            raise Refused(f"argument 'worker_id' must be a worker id (int >= 0), got {worker_id!r}")
        try:
            pool.kill_worker(worker_id)
        except ConfigError as exc:
            raise Refused(f"kill_worker refused: {exc}") from None
        return {"worker_id": worker_id}

    handler.register("settings", settings, read=True)
    handler.register("set", set_, read=False)
    handler.register("kill_worker", kill_worker, read=False)
