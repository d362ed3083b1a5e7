"""Which notification goes to which channel when: Alertmanager's grouping and timers, pure.

The runtime notifier hands every new `AlertsView` and the time to a `Router`; the router answers
with the `Notification`s due now and when it next needs to run. Keeping the decisions here (no
threads, no clock of its own) lets tests drive hours of timer behaviour in microseconds.

Semantics, per channel (as an Alertmanager route with its receiver):

- Only firing and resolved alerts matching the channel's matchers count; pending alerts never
  notify, and silenced or inhibited ones notify nobody (they are left out of notifications).
- Alerts are grouped by the values of the channel's `group_by` labels. A new group waits
  `group_wait`, so alerts of one incident go out together; an alert resolved before that is
  never notified. After that the group ticks every `group_interval`, and a tick notifies only
  when an alert was added or (with `send_resolved`) resolved since the last notification.
- An unchanged group is notified again after `repeat_interval`, unless every firing alert in it
  is acknowledged: an ack stops the repeats, a new or resolved alert in the group still notifies.
  The repeat goes out at the first tick at or after the previous notification's tick plus
  `repeat_interval`, however late after their ticks the steps run.
- An Alertmanager receiver (webhook, format alertmanager) is not grouped here: Alertmanager
  groups. It gets every change at the next step and all firing alerts again every
  `resend_interval` (Alertmanager resolves an alert whose endsAt passes), plus resolved ones
  for `RESOLVED_RESEND_S` so a restarted Alertmanager still learns they ended.
- A notification that could not be delivered is news again at the group's next tick
  (`undelivered`), as in Alertmanager, which logs only what it delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from poolmon.core.alerts.model import FIRING, RESOLVED, Alert, AlertsView, Labels, sort_key
from poolmon.core.alerts.notify_model import ChannelConfig, NotifyConfig

RESOLVED_RESEND_S: Final = 300.0
"""Resolved alerts are re-sent to Alertmanager receivers this long (its docs: up to 5 min)."""

_EPS: Final = 1e-6


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for one channel: a group's firing alerts and the ones that just resolved.

    Attributes:
        channel: The channel's name.
        pool: The pool the alerts are from.
        group: The group-by label pairs (empty for an Alertmanager batch).
        firing: Every firing alert of the group, most severe and oldest first.
        resolved: Alerts resolved since the group's last notification (send_resolved only);
            for an Alertmanager batch, every recently resolved alert it was told of.
        reason: `new` (first of a group), `update` (added or resolved), `repeat`, `resend`.
        at_ns: Wall-clock time the notification was decided.
    """

    channel: str
    pool: str
    group: Labels
    firing: tuple[Alert, ...]
    resolved: tuple[Alert, ...]
    reason: str
    at_ns: int

    @property
    def status(self) -> str:
        """`firing` while anything in it fires, else `resolved` (Alertmanager's status)."""
        return FIRING if self.firing else RESOLVED

    @property
    def group_key(self) -> str:
        """A stable key for the group, e.g. `etl/ops:{alertname="HighErrorRate",pool="etl"}`."""
        inner = ",".join(f'{k}="{v}"' for k, v in self.group)
        return f"{self.pool}/{self.channel}:{{{inner}}}"


@dataclass(slots=True)
class _Group:
    next_flush_s: float
    last_sent_s: float | None = None  # the tick of the last notification (see `_flush`)
    told_firing: set[str] = field(default_factory=set)  # alert ids notified as firing


@dataclass(slots=True)
class _Resend:
    last_sent_s: float | None = None
    told: dict[str, str] = field(default_factory=dict)  # alert id -> state last sent


class Router:
    """Decides the notifications of every channel from successive views (see module doc)."""

    def __init__(self, config: NotifyConfig, pool: str) -> None:
        self._config = config
        self._pool = pool
        self._view = AlertsView(pool=pool)
        self._groups: dict[str, dict[Labels, _Group]] = {c.name: {} for c in config.channels}
        self._resend: dict[str, _Resend] = {c.name: _Resend() for c in config.channels}

    def step(self, view: AlertsView | None, now_s: float, wall_ns: int) -> list[Notification]:
        """Take the latest view (None: unchanged) and return what is due at `now_s`.

        Args:
            view: The newest alert state, or None when nothing new arrived.
            now_s: Monotonic seconds (timers).
            wall_ns: Wall-clock nanoseconds (what notifications say and resolved-resend age).
        """
        if view is not None:
            self._view = view
        out: list[Notification] = []
        for channel in self._config.channels:
            alerts = [a for a in self._view.alerts if _eligible(channel, a)]
            if channel.resends:
                out.extend(self._resend_step(channel, alerts, now_s, wall_ns))
            else:
                out.extend(self._group_step(channel, alerts, now_s, wall_ns))
        return out

    def undelivered(self, n: Notification, now_s: float) -> None:
        """`n` never reached its receiver: make its content news again for the next tick.

        Alertmanager logs only delivered notifications, so a failed one is retried at the
        group's next tick; here its firing alerts count as not yet told and its resolved ones
        as told firing (so the resolution is sent again). A group that was dropped since is
        recreated, due one `group_interval` from now. An Alertmanager receiver gets it again
        at the next step.
        """
        channel = next((c for c in self._config.channels if c.name == n.channel), None)
        if channel is None:
            return
        if channel.resends:
            told = self._resend[n.channel].told
            for a in n.firing:
                told.pop(a.id, None)
            told.update({a.id: FIRING for a in n.resolved})
            return
        groups = self._groups[n.channel]
        group = groups.get(n.group)
        if group is None:
            due_s = now_s + channel.timing.group_interval_s
            group = groups[n.group] = _Group(next_flush_s=due_s, last_sent_s=now_s)
        group.told_firing -= {a.id for a in n.firing}
        group.told_firing |= {a.id for a in n.resolved}

    def next_due_s(self) -> float | None:
        """The monotonic time at which `step` next has something to decide, or None."""
        due = [g.next_flush_s for groups in self._groups.values() for g in groups.values()]
        for channel in self._config.channels:
            state = self._resend[channel.name]
            if state.last_sent_s is not None and FIRING in state.told.values():
                due.append(state.last_sent_s + self._config.resend_interval_s)
        return min(due, default=None)

    def _group_step(
        self, channel: ChannelConfig, alerts: list[Alert], now_s: float, wall_ns: int
    ) -> list[Notification]:
        timing = channel.timing
        members: dict[Labels, list[Alert]] = {}
        for alert in alerts:
            members.setdefault(timing.group_of(alert.label_map), []).append(alert)
        groups = self._groups[channel.name]
        for key, group_alerts in members.items():
            if key not in groups and any(a.state == FIRING for a in group_alerts):
                groups[key] = _Group(next_flush_s=now_s + timing.group_wait_s)
        out: list[Notification] = []
        for key, group in list(groups.items()):
            if now_s + _EPS < group.next_flush_s:
                continue
            tick_s = group.next_flush_s  # the latest tick due: a step runs at or after it
            while tick_s + timing.group_interval_s <= now_s + _EPS:
                tick_s += timing.group_interval_s
            note = self._flush(channel, key, group, members.get(key, []), tick_s, wall_ns)
            if note is not None:
                out.append(note)
            group.next_flush_s = tick_s + timing.group_interval_s
            if not group.told_firing and not any(a.state == FIRING for a in members.get(key, [])):
                del groups[key]
        return out

    def _flush(
        self,
        channel: ChannelConfig,
        key: Labels,
        group: _Group,
        alerts: list[Alert],
        tick_s: float,
        wall_ns: int,
    ) -> Notification | None:
        """The group's notification at its tick `tick_s`, or None when the tick has no news.

        Sends are dated by their tick, not by when the step ran: a step runs a little after
        its tick, by varying amounts, and a repeat measured from the run would slip a whole
        tick whenever the previous step ran later after its tick than this one (a 45-s repeat
        every 60 s). So a repeat is sent at the first tick at or after the previous tick sent
        plus `repeat_interval` (already a multiple of `group_interval`), as Alertmanager does.
        """
        firing = {a.id: a for a in alerts if a.state == FIRING}
        resolved = [a for a in alerts if a.state == RESOLVED and a.id in group.told_firing]
        added = firing.keys() - group.told_firing
        repeat = (
            group.last_sent_s is not None
            and tick_s - group.last_sent_s >= channel.timing.repeat_interval_s - _EPS
            and any(a.ack is None for a in firing.values())
        )
        told_resolved = channel.send_resolved and bool(resolved)
        if not (added or told_resolved or repeat):
            group.told_firing &= firing.keys()
            return None
        if group.last_sent_s is None:
            reason = "new"
        else:
            reason = "update" if added or told_resolved else "repeat"
        group.told_firing = set(firing)
        group.last_sent_s = tick_s
        return Notification(
            channel=channel.name,
            pool=self._pool,
            group=key,
            firing=tuple(sorted(firing.values(), key=sort_key)),
            resolved=tuple(sorted(resolved, key=sort_key)) if channel.send_resolved else (),
            reason=reason,
            at_ns=wall_ns,
        )

    def _resend_step(
        self, channel: ChannelConfig, alerts: list[Alert], now_s: float, wall_ns: int
    ) -> list[Notification]:
        state = self._resend[channel.name]
        firing = [a for a in alerts if a.state == FIRING]
        resolved = [
            a
            for a in alerts
            if a.state == RESOLVED
            and a.id in state.told
            and wall_ns - (a.resolved_at_ns or wall_ns) <= RESOLVED_RESEND_S * 1e9
        ]
        changed = any(state.told.get(a.id) != FIRING for a in firing) or any(
            state.told.get(a.id) != RESOLVED for a in resolved
        )
        due = (
            state.last_sent_s is not None
            and now_s - state.last_sent_s >= self._config.resend_interval_s - _EPS
        )
        # Forget what left the view or got silenced/inhibited: if it comes back, it is news.
        present = {a.id for a in alerts}
        state.told = {k: v for k, v in state.told.items() if k in present}
        if not (firing or resolved) or not (changed or due):
            return []
        state.last_sent_s = now_s
        state.told.update({a.id: FIRING for a in firing})
        state.told.update({a.id: RESOLVED for a in resolved})
        return [
            Notification(
                channel=channel.name,
                pool=self._pool,
                group=(),
                firing=tuple(sorted(firing, key=sort_key)),
                resolved=tuple(sorted(resolved, key=sort_key)),
                reason="update" if changed else "resend",
                at_ns=wall_ns,
            )
        ]


def _eligible(channel: ChannelConfig, alert: Alert) -> bool:
    """Firing or resolved, routed to the channel, and neither silenced nor inhibited."""
    return (
        alert.state != "pending"
        and not alert.silenced_by
        and not alert.inhibited_by
        and channel.selects(alert)
    )
