"""The top line: which pool, how long it has run, the connection state, window and modes.

The connection state is the first thing to check when numbers look odd, so it sits in the
header with a symbol and colour per state (connecting, live, stale, disconnected). The alert
badge follows it on every screen: "2 firing" (in the error colour, reversed, when one of them is
critical, and then the critical alert is named), "1 pending" and "1 acked" muted, nothing when
all is quiet. When the line is too narrow, the pid, host and uptime give way first.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.reactive import reactive
from textual.widget import Widget

from poolmon.core.alerts.model import Alert, AlertsView
from poolmon.core.snapshot import PoolSnapshot
from poolmon.widgets import _format as fmt
from poolmon.widgets._theme import theme_hex

STATE_LOOK: dict[str, tuple[str, str]] = {
    "connecting": ("◌ connecting", "warning"),
    "live": ("● live", "success"),
    "stale": ("◐ stale", "warning"),
    "disconnected": ("○ disconnected", "error"),
}
"""Label and theme colour of each connection state."""


def autotune_words(snap: PoolSnapshot) -> str:
    """`  autotune: on (kept 2→4)`: the state and the last size decision, for the header."""
    view = snap.autotune
    words = "  autotune: " + ("on" if view.enabled else "off")
    if view.enabled and view.paused_until_ns > snap.taken_at_ns:
        words += " (paused)"
    elif view.enabled:
        last = next((d for d in reversed(view.decisions) if d.get("to_size") is not None), None)
        if last is not None:
            kind = str(last.get("kind", "")).replace("_", " ")
            words += f" ({kind} {last.get('from_size')}→{last.get('to_size')})"
    return words


def fleet_parts(label: str, snap: PoolSnapshot | None, muted: Style) -> list[tuple[Text, int]]:
    """`etl 2/5`: the pool's name before its handshake, its place among the pools after it."""
    if not label:
        return []
    if snap is not None and snap.pool.pid:  # the name is already there: add the place
        name, _, place = label.rpartition(" ")
        return [(Text(f" {place}", style=muted), 1)] if name and place else []
    return [(Text(label, style=Style(bold=True)), 0)]


class HeaderBar(Widget):
    """One line: pool identity and uptime, connection state, window, paused / read-only flags."""

    DEFAULT_CSS = """
    HeaderBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    snapshot: reactive[PoolSnapshot | None] = reactive(None, always_update=True)
    """The snapshot shown (identity, uptime and size come from it)."""

    state: reactive[str] = reactive("connecting")
    """The connection state: connecting, live, stale or disconnected."""

    window_s: reactive[int] = reactive(60)
    """The chosen window in seconds."""

    paused: reactive[bool] = reactive(False)
    """Whether the screen is frozen (data keeps arriving underneath)."""

    read_only: reactive[bool] = reactive(False)
    """Whether tuning commands are disabled."""

    alerts: reactive[AlertsView | None] = reactive(None, always_update=True)
    """The pool's alert state, for the badge (None: no alert state received)."""

    pool_label: reactive[str] = reactive("")
    """With several pools: which one this is (`etl 2/5`), named even before its handshake."""

    behind: reactive[str] = reactive("")
    """How far behind the monitor is (`3.2s`); it replaces the live state (never looks live)."""

    def render(self) -> RenderResult:
        """Compose the line from the current values, leaving out the least needed parts."""
        snap = self.snapshot
        muted = Style(color=theme_hex(self.app, "text-muted"))
        # (part, drop rank): when the line is too wide, the highest rank goes first
        parts: list[tuple[Text, int]] = [
            (Text(" poolmon ", style=Style(bold=True, color=theme_hex(self.app, "primary"))), 0)
        ]
        if snap is not None and snap.pool.pid:
            info = snap.pool
            parts.append((Text(info.name or "pool", style=Style(bold=True)), 0))
            identity = Text(f" pid {info.pid}", style=muted)
            if info.host:
                identity.append(f"@{info.host}", style=muted)
            until = snap.seen_at_ns  # frozen while disconnected
            if info.started_at_ns and until >= info.started_at_ns:
                identity.append(f" up {fmt.age(until - info.started_at_ns)}")
            parts.append((identity, 5))
        parts.extend(fleet_parts(self.pool_label, snap, muted))
        replay = self.state.startswith("REPLAY")  # a recording: `REPLAY 60x playing`
        label, colour = STATE_LOOK.get(
            self.state, (self.state, "accent" if replay else "text-muted")
        )
        state = Text("  ")
        if self.behind:
            label, colour = f" ◐ BEHIND {self.behind} ", "error"
        state.append(
            label,
            style=Style(bold=True, reverse=bool(self.behind), color=theme_hex(self.app, colour)),
        )
        if self.state or self.behind:
            parts.append((state, 0))
        parts.extend(self._badge())
        parts.append((Text(f"  window {fmt.window(self.window_s)}"), 2))
        if snap is not None and snap.pool.pid:
            sizes = f"  {fmt.count(snap.size)} workers {fmt.count(snap.busy)} busy"
            if snap.data_until_ns is not None:  # no connection: how busy they are is unknown
                sizes = f"  {fmt.count(snap.size)} workers (last seen)"
            parts.append((Text(sizes, style=muted), 3))
        if snap is not None and snap.autotune.enabled is not None:
            parts.append((Text(autotune_words(snap), style=muted), 4))
        for flag, word, tint in (
            (self.paused, " PAUSED ", "warning"),
            (self.read_only, " READ-ONLY ", "accent"),
        ):
            if flag:
                text = Text("  ")
                text.append(
                    word, style=Style(bold=True, reverse=True, color=theme_hex(self.app, tint))
                )
                parts.append((text, 0))
        for rank in (5, 4, 3, 2, 1):
            if sum(p.cell_len for p, _ in parts) <= self.size.width:
                break
            parts = [(p, r) for p, r in parts if r != rank]
        line = Text(no_wrap=True, overflow="ellipsis")
        for part, _ in parts:
            line.append_text(part)
        if snap is not None and snap.taken_at_ns:
            clock = f"{fmt.clock(snap.taken_at_ns)} UTC "
            room = self.size.width - line.cell_len - len(clock)
            if room > 0:
                line.append(" " * room)
                line.append(clock, style=muted)
        return line

    def _badge(self) -> list[tuple[Text, int]]:
        """`  ▲ 2 firing: ErrorRateHigh  1 pending  1 acked`, or nothing when all is quiet.

        Returned as parts with drop ranks: the firing count stays; the acked count goes
        right after the pid and host.
        """
        parts: list[tuple[Text, int]] = []
        view = self.alerts
        if view is None:
            return parts
        by_state: dict[str, list[Alert]] = {}
        for alert in view.alerts:
            by_state.setdefault(alert.display_state, []).append(alert)
        firing = by_state.get("firing", [])
        critical = [a for a in firing if a.severity == "critical"]
        if firing:
            colour = theme_hex(self.app, "error" if critical else "warning")
            badge = Text("  ")
            text = f" ▲ {len(firing)} firing "
            if critical:
                more = f" +{len(critical) - 1}" if len(critical) > 1 else ""
                text = f" ▲ {len(firing)} firing: {critical[0].rule}{more} "
            badge.append(text, style=Style(bold=True, reverse=bool(critical), color=colour))
            parts.append((badge, 0))
        muted = Style(color=theme_hex(self.app, "text-muted"))
        for state, rank in (("pending", 1), ("acked", 4)):
            if by_state.get(state):
                parts.append((Text(f"  {len(by_state[state])} {state}", style=muted), rank))
        return parts
