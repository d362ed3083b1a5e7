"""The pool's view of itself: an aggregator fed by its own endpoint, and hooks run once a second.

Alerting and auto-tuning must work with no monitor attached, and must see the same numbers a
monitor would. So the pool keeps one `Aggregator` (the same engine the terminal app uses),
fed by its endpoint's server thread with what the endpoint already has in hand:

* every plain event as the server numbers it (worker lifecycle, resource samples, pool status,
  task exceptions): a few hundred a second at most;
* each second's task rollup when the endpoint's history closes it (`close_grace_s`, 0.5 s, after the
  second ends), never the raw task rows: one rollup a second costs the same whether the pool
  runs ten tasks a second or half a million.

Task figures therefore lag real time by the close grace and the tick after it (the server
phase-locks its tick to run just after the grace: 0.55-1.55 s in all), which is what an
alert or a tuning decision taken once a second can afford. Hooks (the alert service, the
auto-tuner) run in the endpoint's thread right after each second's feed, with the aggregator
and the time; a hook that raises is reported as a `poolmon.error` by the server and the others
still run. Pure engines read the aggregator; only their runtime wrappers live here and beside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from poolmon.core.aggregator import Aggregator
from poolmon.core.clock import Clock, SystemClock
from poolmon.core.events import Event
from poolmon.core.rollup import Rollup

Hook = Callable[[Aggregator, int], None]
"""Called once a second with the insight aggregator and the wall-clock time in ns."""


@dataclass(frozen=True, slots=True)
class HookFailure:
    """A hook raised: which one, and the exception (the server reports it)."""

    name: str
    error: Exception


class Insight:
    """One aggregator over the pool's own telemetry, and the hooks that read it each second.

    Args:
        clock: Time source of the aggregator's windows (the wall clock in a pool).
        aggregator: An aggregator to feed instead of a fresh one (tests).
    """

    def __init__(self, clock: Clock | None = None, aggregator: Aggregator | None = None) -> None:
        self.aggregator = aggregator or Aggregator(clock or SystemClock())
        """The pool's own aggregator (read by hooks in the endpoint thread only)."""
        self._hooks: dict[str, Hook] = {}

    def add_hook(self, name: str, hook: Hook) -> None:
        """Run `hook` once a second after the feed; a second hook of the same name replaces it."""
        self._hooks[name] = hook

    def remove_hook(self, name: str) -> None:
        """Stop running the named hook (no error if unknown)."""
        self._hooks.pop(name, None)

    @property
    def hooks(self) -> tuple[str, ...]:
        """Names of the hooks, in the order they run."""
        return tuple(self._hooks)

    def on_events(self, events: Iterable[Event]) -> None:
        """Feed plain events (called by the endpoint as it numbers them)."""
        ingest = self.aggregator.ingest_event
        for event in events:
            ingest(event)

    def on_second(self, now_ns: int, rollups: Iterable[Rollup]) -> list[HookFailure]:
        """Feed the rollups closed this second, then run every hook; returns the failures."""
        agg = self.aggregator
        for rollup in rollups:
            agg.ingest_rollup(rollup)
        failures = []
        for name, hook in list(self._hooks.items()):
            try:
                hook(agg, now_ns)
            except Exception as exc:  # one broken hook must not stop the others
                failures.append(HookFailure(name, exc))
        return failures
