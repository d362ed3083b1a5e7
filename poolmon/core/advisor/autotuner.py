"""`Autotuner`: the state machine of auto-tuning (idle -> validating -> kept / rolled back).

The rules it follows are in `poolmon.core.advisor.autotune` (module doc); this class holds the
state between ticks: the change being validated, the changes of the last hour, the changes
barred after a rollback and until when, and a pause after a manual change. It never reads a
clock or the pool: the runtime wrapper passes the time, the findings, the size and a
`measure(start_ns, end_ns)` function, applies the size it returns, and reports back a failure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

from poolmon.core.advisor.autotune import (
    HIGH_CONFIDENCE,
    SIZE_KINDS,
    AutotuneConfig,
    Decision,
    DecisionKind,
    Step,
    WindowStats,
    _Change,
    judge,
)
from poolmon.core.advisor.model import Finding

S = 1_000_000_000
HISTORY = 50
"""Decisions kept for the app's change log and the `autotune` command's reply."""

Measure = Callable[[int, int], WindowStats]
"""Figures of `[start_ns, end_ns)` (see `autotune.measure`)."""


class Autotuner:
    """Decides size changes once a second (see module doc).

    Args:
        config: Bounds and pacing.
        min_size / max_size: The pool's own bounds (the config may narrow them).
    """

    def __init__(self, config: AutotuneConfig, min_size: int, max_size: int) -> None:
        self.config = config
        self.enabled = config.enabled
        self.min_size = max(min_size, config.min_size or 1, 1)
        self.max_size = min(max_size, config.max_size or max_size)
        self.validating: _Change | None = None
        self.paused_until_ns = 0
        self.pause_reason = ""
        self.quiet_until_ns = 0
        self.barred: dict[tuple[int, int], int] = {}
        """(from, to) -> until when that change may not be tried again."""
        self.changes: deque[int] = deque()
        """Times of the changes applied in the last hour."""
        self.history: deque[Decision] = deque(maxlen=HISTORY)
        self._last_skip = ""
        self._now_ns = 0

    # ------------------------------------------------------------------ outside events
    def set_enabled(self, now_ns: int, enabled: bool, size: int) -> Decision:
        """Turn auto-tuning on or off (turning off abandons a validation, keeping the size)."""
        self.enabled = enabled
        self.validating = None
        kind: DecisionKind = "enabled" if enabled else "disabled"
        return self._note(Decision(now_ns, kind, "asked by a monitor", size))

    def note_manual(self, now_ns: int, what: str) -> Decision | None:
        """A person changed the pool: stop validating (their change stands) and pause."""
        if not self.enabled:
            return None
        until = now_ns + int(self.config.manual_pause_s * S)
        self.paused_until_ns = max(self.paused_until_ns, until)
        self.pause_reason = what
        change, self.validating = self.validating, None
        kind: DecisionKind = "abandoned" if change is not None else "paused"
        return self._note(
            Decision(
                now_ns,
                kind,
                f"manual change ({what}): auto-tuning paused for "
                f"{self.config.manual_pause_s:.0f} s",
                None if change is None else change.from_size,
                None if change is None else change.to_size,
            )
        )

    def apply_failed(self, now_ns: int, reason: str) -> Decision:
        """The pool refused the size returned last: forget the change."""
        change, self.validating = self.validating, None
        if change is not None:
            self.barred[(change.from_size, change.to_size)] = now_ns + int(
                self.config.cooldown_s * S
            )
        return self._note(
            Decision(
                now_ns,
                "failed",
                reason,
                None if change is None else change.from_size,
                None if change is None else change.to_size,
            )
        )

    @property
    def paused(self) -> bool:
        """Whether a manual change paused auto-tuning (as of the last tick)."""
        return self._now_ns < self.paused_until_ns

    def wants_findings(self, now_ns: int, closing: bool) -> bool:
        """Whether the next `step` could propose a change (else the caller may skip advising)."""
        return (
            self.enabled
            and not closing
            and self.validating is None
            and now_ns >= max(self.paused_until_ns, self.quiet_until_ns)
        )

    # ------------------------------------------------------------------ the tick
    def step(
        self,
        now_ns: int,
        findings: Sequence[Finding],
        size: int,
        closing: bool,
        measure: Measure,
    ) -> Step:
        """One tick: finish a validation, or propose and apply one change, or nothing."""
        self._now_ns = now_ns
        if not self.enabled or closing or now_ns < self.paused_until_ns:
            return Step()
        cfg = self.config
        lag = int(cfg.lag_s * S)
        if self.validating is not None:
            change = self.validating
            after_start = change.at_ns + int(cfg.settle_s * S)
            after_end = after_start + int(cfg.validate_s * S)
            if now_ns < after_end + lag:
                return Step()
            after = measure(after_start, after_end)
            verdict = judge(change.before, after, change.to_size > change.from_size, cfg)
            self.validating = None
            figures = {"before": change.before.to_wire(), "after": after.to_wire()}
            if verdict.keep:
                # the validation window is a clean baseline at the new size for the next change
                self.quiet_until_ns = now_ns + int(max(0.0, cfg.baseline_s - cfg.validate_s) * S)
                d = Decision(now_ns, "kept", verdict.reason, change.from_size, change.to_size,
                             change.finding, **figures)  # fmt: skip
                return Step((self._note(d),))
            self.barred[(change.from_size, change.to_size)] = now_ns + int(cfg.cooldown_s * S)
            self.quiet_until_ns = now_ns + int((cfg.settle_s + cfg.baseline_s) * S) + lag
            self._count_change(now_ns)
            d = Decision(now_ns, "rolled_back", verdict.reason, change.to_size, change.from_size,
                         change.finding, **figures)  # fmt: skip
            return Step((self._note(d),), resize_to=change.from_size)
        if now_ns < self.quiet_until_ns:
            return Step()
        return self._propose(now_ns, findings, size, measure, lag)

    def _propose(
        self, now_ns: int, findings: Sequence[Finding], size: int, measure: Measure, lag: int
    ) -> Step:
        cfg = self.config
        finding = next(
            (
                f
                for f in findings
                if f.kind in SIZE_KINDS
                and f.action.kind == "resize"
                and f.confidence >= HIGH_CONFIDENCE
            ),
            None,
        )
        if finding is None:
            return Step()
        wanted = int(dict(finding.action.settings)["size"])
        delta = max(-cfg.max_step, min(cfg.max_step, wanted - size))
        target = max(self.min_size, min(self.max_size, size + delta))
        if target == size:
            return self._skip(now_ns, f"{finding.kind}: size {size} is at the bound", size)
        until = self.barred.get((size, target), 0)
        if now_ns < until:
            return self._skip(
                now_ns,
                f"{finding.kind}: {size} -> {target} was rolled back; not retried for "
                f"{self.config.cooldown_s:.0f} s",
                size,
            )
        while self.changes and self.changes[0] <= now_ns - 3600 * S:
            self.changes.popleft()
        if len(self.changes) >= cfg.max_changes_per_hour:
            return self._skip(
                now_ns, f"{cfg.max_changes_per_hour} changes in the last hour: waiting", size
            )
        before = measure(now_ns - lag - int(cfg.baseline_s * S), now_ns - lag)
        if len(before.per_second) < cfg.baseline_s / 2 or before.tasks < cfg.min_tasks:
            return self._skip(now_ns, "not enough task data for a baseline yet", size)
        self._last_skip = ""
        self._count_change(now_ns)
        self.validating = _Change(now_ns, size, target, finding.kind, before)
        proposed = Decision(
            now_ns, "proposed", finding.title, size, target, finding.kind, before.to_wire()
        )
        applied = replace(
            proposed,
            kind="applied",
            reason=f"validating for {cfg.validate_s:.0f} s after {cfg.settle_s:.0f} s to settle",
        )
        return Step((self._note(proposed), self._note(applied)), resize_to=target)

    def _skip(self, now_ns: int, reason: str, size: int) -> Step:
        """Say why nothing changes, once per distinct reason (no event every second)."""
        if reason == self._last_skip:
            return Step()
        self._last_skip = reason
        return Step((self._note(Decision(now_ns, "skipped", reason, size)),))

    def _count_change(self, now_ns: int) -> None:
        self.changes.append(now_ns)

    def _note(self, d: Decision) -> Decision:
        self.history.append(d)
        return d
