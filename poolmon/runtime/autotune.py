"""Auto-tuning and advice inside the pool: an insight hook, and the `advise`/`autotune` commands.

Why here: the decision logic is pure (`poolmon.core.advisor.autotuner`); what a running pool
adds is the clock, the pool's own aggregator (`EndpointServer.insight`, fed once a second), the
resize, the decision events, and noticing people. `AutotuneService`:

* runs once a second as the insight hook "autotune": the advisor over the insight aggregator,
  then one `Autotuner.step`; a size it returns is applied with `pool.resize(n,
  reason="autotune")`, and every decision is emitted as `poolmon.autotune.decision`;
* watches telemetry for `poolmon.pool.resize` with a reason other than autotune and for
  `poolmon.control.command` (any command but its own): a person changed the pool, so the
  tuner pauses (the handler only appends to a deque; the hook reads it);
* registers endpoint commands: `advise` (read: the findings computed here, on the same
  aggregator the tuner uses), `autotune_status` (read) and `autotune {enabled}` (a change).

The pool's settings come from the `settings` command when one is registered (the tuning
screen's contract), else from the size bounds alone; the core count from the CPUs the process
may run on (the workers inherit it).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Protocol

from poolmon.core import catalog as C
from poolmon.core.advisor import advise, gather
from poolmon.core.advisor.autotune import AutotuneConfig, Decision, measure
from poolmon.core.advisor.autotuner import Autotuner
from poolmon.core.aggregator import Aggregator
from poolmon.runtime.endpoint.control import CommandHandler, Refused
from poolmon.runtime.telemetry import Telemetry

HOOK = "autotune"
"""The insight hook's name."""


class TunablePool(Protocol):
    """What auto-tuning needs from a pool (`poolmon.Pool` has it all)."""

    @property
    def name(self) -> str:
        """Pool name (events, filtering telemetry)."""
        ...

    @property
    def size(self) -> int:
        """Target size now."""
        ...

    @property
    def min_size(self) -> int:
        """Lower bound."""
        ...

    @property
    def max_size(self) -> int:
        """Upper bound."""
        ...

    @property
    def closed(self) -> bool:
        """True once shutdown started."""
        ...

    def resize(self, n: int, *, reason: Any = "user") -> None:
        """Change the size."""
        ...


def cpu_count() -> int:
    """CPUs this process (and so its workers) may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class AutotuneService:
    """The pool's auto-tuner and advisor endpoint (see module doc).

    Args:
        pool: The pool to tune.
        telemetry: Registry to emit decisions to and watch for manual changes on.
        config: Bounds and pacing; `enabled=False` serves advice and waits to be turned on.
        aggregator: The pool's insight aggregator (read in the endpoint thread only).
        commands: The endpoint's command handler (to register commands, read `settings`).
        cores: CPUs available to the workers (default: this process's affinity).
    """

    def __init__(
        self,
        pool: TunablePool,
        telemetry: Telemetry,
        config: AutotuneConfig,
        aggregator: Aggregator,
        commands: CommandHandler | None = None,
        cores: int | None = None,
    ) -> None:
        self.pool = pool
        self.telemetry = telemetry
        self.tuner = Autotuner(config, pool.min_size, pool.max_size)
        self.cores = cores or cpu_count()
        self._commands = commands
        self._manual: deque[str] = deque(maxlen=64)
        self._handler_id = f"poolmon.autotune.{id(self):x}"
        self._agg = aggregator
        telemetry.attach(self._handler_id, [C.POOL_RESIZE, C.CONTROL_COMMAND], self._on_event)
        if commands is not None:
            commands.register("advise", self._advise, read=True)
            commands.register("autotune_status", lambda args: self.status(), read=True)
            commands.register("autotune", self._set_enabled, read=False)
        if config.enabled:
            self._emit(self.tuner.set_enabled(time.time_ns(), True, pool.size))

    def stop(self) -> None:
        """Stop watching telemetry (the hook goes with the endpoint)."""
        self.telemetry.detach(self._handler_id)

    # ------------------------------------------------------------------ the hook
    def hook(self, agg: Aggregator, now_ns: int) -> None:
        """Once a second, in the endpoint thread: notice people, then one tuner step."""
        tuner = self.tuner
        while self._manual:
            decision = tuner.note_manual(now_ns, self._manual.popleft())
            if decision is not None:
                self._emit(decision)
        if not tuner.enabled:
            return
        size, closing = self.pool.size, self.pool.closed
        # advising costs a few ms of the endpoint thread: only when a change could follow
        findings = advise(self._input(agg)) if tuner.wants_findings(now_ns, closing) else ()
        step = tuner.step(now_ns, findings, size, closing, lambda s, e: measure(agg, s, e))
        for decision in step.decisions:
            self._emit(decision)
        if step.resize_to is not None and step.resize_to != size:
            try:
                self.pool.resize(step.resize_to, reason="autotune")
            except Exception as exc:  # shutting down, or a bound changed under us
                self._emit(tuner.apply_failed(now_ns, f"{type(exc).__name__}: {exc}"))

    def _input(self, agg: Aggregator) -> Any:
        return gather(
            agg,
            self.cores,
            self._settings(),
            max_size=self.tuner.max_size,
            min_size=self.tuner.min_size,
        )

    def _settings(self) -> dict[str, Any] | None:
        """The pool's settings from the `settings` command, if one is registered."""
        commands = self._commands
        if commands is None or "settings" not in commands.names:
            return None
        outcome = commands.run("settings", {}, read_only=True, peer_pid=os.getpid())
        rows = outcome.result.get("settings") if outcome.ok else None
        if not isinstance(rows, list):
            return None
        return {str(r["key"]): r.get("value") for r in rows if isinstance(r, dict) and "key" in r}

    # ------------------------------------------------------------------ telemetry
    def _on_event(
        self, name: str, measurements: Mapping[str, int | float], md: Mapping[str, Any]
    ) -> None:
        """Runs in the emitting thread: only note what a person changed."""
        if md.get("pool") not in (None, self.pool.name):
            return
        if name == C.POOL_RESIZE and md.get("reason") != "autotune":
            self._manual.append(f"resize by {md.get('reason')}")
        elif (
            name == C.CONTROL_COMMAND
            and md.get("command") not in ("autotune", "resize")
            and md.get("result") == "ok"
        ):
            self._manual.append(f"{md.get('command')} from a monitor")

    def _emit(self, decision: Decision) -> None:
        tuner = self.tuner
        paused = tuner.paused_until_ns if decision.at_ns < tuner.paused_until_ns else 0
        self.telemetry.emit(
            C.AUTOTUNE_DECISION,
            {"size": self.pool.size, "enabled": int(tuner.enabled)},
            {"pool": self.pool.name, "decision": decision.to_wire(), "paused_until_ns": paused},
        )

    # ------------------------------------------------------------------ commands
    def status(self) -> dict[str, Any]:
        """The tuner's state and its latest decisions (the `autotune_status` reply)."""
        t = self.tuner
        return {
            "enabled": t.enabled,
            "paused_until_ns": t.paused_until_ns,
            "pause_reason": t.pause_reason,
            "validating": t.validating is not None,
            "min_size": t.min_size,
            "max_size": t.max_size,
            "decisions": [d.to_wire() for d in t.history],
        }

    def _set_enabled(self, args: Mapping[str, Any]) -> Mapping[str, Any]:
        enabled = args.get("enabled")
        if not isinstance(enabled, bool):
            raise Refused(f"argument 'enabled' must be true or false, got {enabled!r}")
        if self.pool.closed:
            raise Refused("the pool is shutting down")
        if enabled != self.tuner.enabled:
            self._emit(self.tuner.set_enabled(time.time_ns(), enabled, self.pool.size))
        return {"enabled": self.tuner.enabled}

    def _advise(self, args: Mapping[str, Any]) -> Mapping[str, Any]:
        agg = self._agg
        findings = advise(self._input(agg))
        return {
            "findings": [f.to_wire() for f in findings],
            "cores": self.cores,
            "taken_at_ns": agg.clock.time_ns(),
            "autotune": self.status(),
        }
