"""Control commands a monitor may send, their safe ranges, and what the endpoint needs of a pool.

The endpoint is coded against `PoolControl`, a small Protocol, not against `poolmon.Pool`:
anything with a name, a start time, `stats()` and the four setters can be served, which is how
the tests and the benchmark drive the server without the pool's internals. Every command that
could change something is checked here (read-only connection, argument type, safe range) before
the pool sees it, answered with a clear reason when refused, and reported as a
`poolmon.control.command` telemetry event whatever its outcome: a change made from a monitor is
itself visible in every monitor.
"""

from __future__ import annotations

import math
import os
import pwd
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any, Final, Protocol

from poolmon.core.catalog import CONTROL_COMMAND
from poolmon.core.errors import ConfigError, PoolmonError


class PoolControl(Protocol):
    """What the endpoint needs from the pool it serves."""

    @property
    def name(self) -> str:
        """Pool name (also the socket file's name)."""
        ...

    @property
    def started_at_ns(self) -> int:
        """Wall-clock start time, ns since the epoch."""
        ...

    def stats(self) -> Any:
        """Current occupancy and totals: a mapping or a dataclass (see `plain_stats`)."""
        ...

    def resize(self, size: int, /) -> None:
        """Change the number of workers."""
        ...

    def set_task_timeout(self, seconds: float | None, /) -> None:
        """Set the per-task timeout (None: no timeout)."""
        ...

    def set_health_check_interval(self, seconds: float, /) -> None:
        """Set how often workers are health-checked."""
        ...

    def recycle_worker(self, worker_id: int, /) -> None:
        """Replace one worker with a fresh process."""
        ...


@dataclass(frozen=True, slots=True)
class Limits:
    """Safe ranges for control commands; values outside are refused, never clamped.

    Attributes:
        max_size: Largest pool size a monitor may ask for.
        min_task_timeout_s: Shortest task timeout (a tiny one would kill every worker).
        max_task_timeout_s: Longest task timeout.
        min_health_interval_s: Shortest health-check interval (a tiny one is a busy loop).
        max_health_interval_s: Longest health-check interval.
    """

    max_size: int = max(4 * (os.cpu_count() or 1), 64)
    min_task_timeout_s: float = 0.01
    max_task_timeout_s: float = 7 * 24 * 3600.0
    min_health_interval_s: float = 0.01  # the pool's own range (pool.settings.HEALTH_RANGE_S)
    max_health_interval_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one command: what the reply says and whether it changed the pool."""

    ok: bool
    result: Mapping[str, Any]
    reason: str = ""


class Refused(PoolmonError):
    """A command was refused before reaching the pool; the message is the reply's reason."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent a command, from the socket's peer credentials (SO_PEERCRED), not from its args.

    Why: an acknowledgment or a silence records who made it, and a monitor could claim any
    name in its arguments; the kernel's word for the peer's uid cannot be forged.
    """

    pid: int
    uid: int
    user: str


def user_name(uid: int) -> str:
    """The login name of `uid`, or "uid N" when the user database does not know it."""
    if uid < 0:
        return "unknown"
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


READ_COMMANDS: Final = frozenset({"ping", "stats"})
"""Commands allowed on read-only connections; they change nothing and emit no event."""

EmitFn = Callable[[str, Mapping[str, int | float], Mapping[str, Any]], None]
StatsFn = Callable[[], Mapping[str, Any]]
CommandFn = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""A command: its args in, its reply's result out (raises `Refused`)."""
CallerCommandFn = Callable[[Mapping[str, Any], Caller], Mapping[str, Any]]
"""A command that also needs to know who sent it (`register(..., caller=True)`)."""


def plain_stats(stats: Any) -> dict[str, Any]:
    """A pool's `stats()` as plain values for the wire, with the figures `status` prints.

    `poolmon.Pool.stats()` returns a frozen dataclass; its computed properties (busy, idle,
    totals.done) are added as keys, and the totals are also flattened to `tasks_*`.
    """
    if is_dataclass(stats) and not isinstance(stats, type):
        out = asdict(stats)
        for name in ("busy", "idle"):
            if hasattr(stats, name):
                out[name] = getattr(stats, name)
        totals = getattr(stats, "totals", None)
        if totals is not None:
            out["tasks_submitted"] = totals.submitted
            out["tasks_done"] = totals.done
            out["tasks_failed"] = totals.failed + totals.timed_out + totals.crashed
        return out
    return dict(stats)


def _number(args: Mapping[str, Any], key: str, lo: float, hi: float) -> float:
    value = args.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise Refused(f"argument {key!r} must be a number of seconds, got {value!r}")
    if not lo <= value <= hi:
        raise Refused(f"{key}={value} is outside the safe range {lo}..{hi}")
    return float(value)


def _integer(args: Mapping[str, Any], key: str, lo: int, hi: int) -> int:
    value = args.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused(f"argument {key!r} must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise Refused(f"{key}={value} is outside the safe range {lo}..{hi}")
    return value


class CommandHandler:
    """Checks and runs commands against a `PoolControl`, and reports each as an event.

    Args:
        control: The pool.
        emit: Telemetry emit function (`Telemetry.emit`).
        status: Extra figures for the `stats` command (throughput, monitors), from the server.
        limits: Safe ranges.
    """

    def __init__(
        self, control: PoolControl, emit: EmitFn, status: StatsFn, limits: Limits | None = None
    ) -> None:
        self._control = control
        self._emit = emit
        self._status = status
        self.limits = limits or Limits()
        self._commands: dict[str, CommandFn] = {
            "ping": lambda args: {"pong": True},
            "stats": self._stats,
            "resize": self._resize,
            "set_task_timeout": self._set_task_timeout,
            "set_health_check_interval": self._set_health_interval,
            "recycle_worker": self._recycle_worker,
        }
        self._with_caller: dict[str, CallerCommandFn] = {}
        self._read_commands: frozenset[str] = READ_COMMANDS

    def register(
        self,
        name: str,
        command: CommandFn | CallerCommandFn,
        *,
        read: bool,
        caller: bool = False,
    ) -> None:
        """Add (or replace) a command; how alerting and tuning plug their commands in.

        Args:
            name: The command's wire name.
            command: Takes the COMMAND's args (and, with `caller`, a `Caller`), returns the
                REPLY's result; raises `Refused` with the reason for bad input or an
                impossible request.
            read: True for a command that changes nothing (allowed on read-only connections,
                no event); False for one that changes the pool or its alerts.
            caller: Pass the sender's `Caller` (pid, uid, user name) as a second argument.
        """
        if caller:
            self._with_caller[name] = command  # type: ignore[assignment]
            self._commands.pop(name, None)
        else:
            self._with_caller.pop(name, None)
            self._commands[name] = command  # type: ignore[assignment]
        if read:
            self._read_commands = self._read_commands | {name}
        else:
            self._read_commands = self._read_commands - {name}

    @property
    def names(self) -> tuple[str, ...]:
        """Every command this handler knows."""
        return (*self._commands, *self._with_caller)

    def _bind(self, name: str, peer_pid: int, peer_uid: int) -> CommandFn | None:
        """The command `name` as a function of its args alone (the caller bound in), or None."""
        plain = self._commands.get(name)
        if plain is not None:
            return plain
        needs_caller = self._with_caller.get(name)
        if needs_caller is None:
            return None
        sender = Caller(peer_pid, peer_uid, user_name(peer_uid))
        return lambda args: needs_caller(args, sender)

    def run(
        self,
        name: str,
        args: Mapping[str, Any],
        *,
        read_only: bool,
        peer_pid: int,
        peer_uid: int = -1,
        client: str = "",
    ) -> Outcome:
        """Check and run one command; never raises (a pool error becomes a failed outcome).

        `peer_pid`/`peer_uid` are the connection's peer credentials; commands registered with
        `caller=True` receive them as a `Caller` with the uid's login name. `client` is the
        name the monitor gave in its HELLO (`poolmon tune`, `poolmon attach`): with `peer_pid`
        it says who sent the command in the `poolmon.control.command` event.
        """
        command = self._bind(name, peer_pid, peer_uid)
        if command is None:
            return Outcome(False, {}, f"unknown command {name!r}; known: {', '.join(self.names)}")
        if name in self._read_commands:
            try:
                return Outcome(True, command(args))
            except Exception as exc:  # a broken stats() must not take the endpoint down
                return Outcome(False, {}, f"{type(exc).__name__}: {exc}")
        try:
            if read_only:
                raise Refused(f"{name} refused: this connection is read-only")
            outcome = Outcome(True, command(args))
            verdict = "ok"
        except (Refused, ConfigError) as exc:  # ConfigError: the pool refused the arguments
            outcome, verdict = Outcome(False, {}, str(exc)), "refused"
        except Exception as exc:  # the pool said no (bad state, shutting down, ...)
            outcome, verdict = Outcome(False, {}, f"{type(exc).__name__}: {exc}"), "error"
        self._emit(
            CONTROL_COMMAND,
            {},
            {
                "pool": self._control.name,
                "command": name,
                "args": dict(args),
                "result": verdict,
                "reason": outcome.reason,
                "peer_pid": peer_pid,
                "client": client,
                "changes": dict(outcome.result.get("changed") or {}) if outcome.ok else {},
            },
        )
        return outcome

    def _stats(self, args: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"pool": plain_stats(self._control.stats()), **self._status()}

    def _resize(self, args: Mapping[str, Any]) -> Mapping[str, Any]:
        lo = getattr(self._control, "min_size", 1)
        hi = min(self.limits.max_size, getattr(self._control, "max_size", self.limits.max_size))
        size = _integer(args, "size", lo, hi)
        self._control.resize(size)
        return {"size": size}

    def _set_task_timeout(self, args: Mapping[str, Any]) -> Mapping[str, Any]:
        if args.get("seconds") is None and "seconds" in args:
            self._control.set_task_timeout(None)
            return {"seconds": None}
        lim = self.limits
        seconds = _number(args, "seconds", lim.min_task_timeout_s, lim.max_task_timeout_s)
        self._control.set_task_timeout(seconds)
        return {"seconds": seconds}

    def _set_health_interval(self, args: Mapping[str, Any]) -> Mapping[str, Any]:
        lim = self.limits
        seconds = _number(args, "seconds", lim.min_health_interval_s, lim.max_health_interval_s)
        self._control.set_health_check_interval(seconds)
        return {"seconds": seconds}

    def _recycle_worker(self, args: Mapping[str, Any]) -> Mapping[str, Any]:
        worker_id = _integer(args, "worker_id", 0, 2**62)
        self._control.recycle_worker(worker_id)
        return {"worker_id": worker_id}
