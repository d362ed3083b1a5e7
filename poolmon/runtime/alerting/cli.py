"""`poolmon alerts|ack|silence|silences|unsilence`: a pool's alerts from scripts and ssh sessions.

Each verb is one endpoint command over a short-lived connection (`MonitorClient`): `alerts` and
`silences` read-only, the others read-write, so the pool records who acted (the login name of
this process's uid, from the socket, not from an argument). `poolmon alerts check FILE`
validates a rule file without any pool. Whatever a user can get wrong (no such pool, a pool
without alerting, an unknown alert id, a bad matcher or duration) raises a `PoolmonError`
whose message is the one line `poolmon` prints before exiting with status 2.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from poolmon.core.alerts.model import Alert, AlertsView, Matcher, Silence
from poolmon.core.errors import ConnectionFailed, PoolmonError
from poolmon.runtime.client import MonitorClient
from poolmon.runtime.commands import resolve_socket
from poolmon.runtime.endpoint.paths import socket_dir

CHECK: Final = "check"
"""`poolmon alerts check FILE`: the sub-verb that takes a file instead of a pool name."""


class CliError(PoolmonError):
    """A user error on the alert verbs; the message is the line printed."""


def parse_duration(text: str) -> float:
    """`90s`, `15m`, `1h`, `1d`, `1h30m`, `2w` (or plain seconds) as seconds, more than zero.

    Raises:
        CliError: Anything else (the rule files' parser says what is wrong).
    """
    from poolmon.core.alerts.units import parse_duration as parse

    try:
        seconds = parse(text)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if seconds <= 0:
        raise CliError(f"duration {text!r} must be longer than zero")
    return seconds


def seconds_until(text: str, now_s: float) -> float:
    """Seconds from now to an ISO time (`2026-12-06T18:00`, local time unless it has a zone)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--until {text!r} is not an ISO time like 2026-12-06T18:00") from None
    left = when.timestamp() - now_s
    if left <= 0:
        raise CliError(f"--until {text!r} is in the past")
    return left


def human_duration(ns: int) -> str:
    """A short age or span: `45s`, `12m`, `3h05m`, `2d04h`."""
    s = max(0, ns // 1_000_000_000)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


# ---------------------------------------------------------------------- talking to a pool
def _socket_for(name: str | None) -> Path:
    path = resolve_socket(name)
    if not path.exists():
        raise CliError(
            f"no pool {name!r} is running (no socket at {path}); `poolmon ls` lists the pools "
            f"in {socket_dir()}"
        )
    return path


def call(name: str | None, command: str, args: Mapping[str, Any], *, read_only: bool) -> Any:
    """Send one alert command to the pool `name`; returns the reply's result.

    Raises:
        CliError: The pool is not running, has no alerting, or refused (with its reason).
    """
    path = _socket_for(name)
    client = MonitorClient(path, read_only=read_only, client=f"poolmon {command}", timeout_s=5.0)
    try:
        welcome = client.connect(subscribe=False)
        reply = client.command(command, dict(args))
    except ConnectionFailed as exc:
        raise CliError(f"cannot reach the pool at {path}: {exc}") from None
    finally:
        client.close()
    if not reply.ok:
        if reply.reason.startswith("unknown command"):
            raise CliError(
                f"pool {welcome.pool!r} does not run alerting (started with alerts=False, "
                "without a monitor endpoint, or by an older poolmon)"
            )
        raise CliError(f"pool {welcome.pool!r} refused: {reply.reason}")
    return reply.result


def fetch_view(name: str | None, *, history: bool = False) -> tuple[AlertsView, list[Alert]]:
    """The pool's current alert view (and its full history when asked)."""
    result = call(name, "alerts", {"history": history}, read_only=True)
    view = AlertsView.from_wire(result["view"])
    return view, [Alert.from_wire(a) for a in result.get("history", [])]


# ---------------------------------------------------------------------- formatting
def _value(alert: Alert) -> str:
    """`value vs threshold` in the metric's unit ("31 % vs 5 %"); a rate's as a plain number."""
    from poolmon.core.alerts.metrics import METRICS
    from poolmon.core.alerts.units import format_value

    spec = METRICS.get(alert.metric)
    unit = spec.unit if spec is not None and "rate(" not in alert.expr else "count"
    text = format_value(alert.value, unit)
    return text if alert.threshold is None else f"{text} vs {format_value(alert.threshold, unit)}"


def _marks(alert: Alert) -> str:
    marks = []
    if alert.ack is not None:
        note = f" ({alert.ack.comment})" if alert.ack.comment else ""
        marks.append(f"acked by {alert.ack.by}{note}")
    if alert.silenced_by:
        marks.append("silenced by " + ",".join(alert.silenced_by))
    if alert.inhibited_by:
        marks.append("inhibited")
    return "; ".join(marks) or "-"


def format_alerts(view: AlertsView, now_ns: int) -> str:
    """The table `poolmon alerts NAME` prints."""
    evaluated = (
        f"evaluated {human_duration(now_ns - view.evaluated_at_ns)} ago"
        if view.evaluated_at_ns
        else "not evaluated yet"
    )
    rules = f"{view.rules} rule{'s' if view.rules != 1 else ''}"
    head = f"pool {view.pool}  {rules}  {evaluated}  revision {view.revision}"
    if view.disabled:
        head += "  disabled: " + ", ".join(d.rule for d in view.disabled)
    if view.notifications_dropped:
        head += f"  notifications dropped: {view.notifications_dropped}"
    if not view.alerts:
        return f"{head}\nno active alerts"
    rows = [("ID", "SEVERITY", "STATE", "RULE", "LABELS", "VALUE", "SINCE", "ACK/SILENCE")]
    for a in view.alerts:
        labels = ",".join(
            f"{k}={v}" for k, v in a.labels if k not in ("alertname", "pool", "severity")
        )
        rows.append(
            (
                a.id,
                a.severity,
                a.display_state,
                a.rule,
                labels or "-",
                _value(a),
                human_duration(now_ns - a.state_since_ns) if a.state_since_ns else "-",
                _marks(a),
            )
        )
    return head + "\n" + _table(rows)


def format_silences(silences: tuple[Silence, ...], now_ns: int) -> str:
    """The table `poolmon silences NAME` prints."""
    if not silences:
        return "no silences"
    rows = [("ID", "MATCHERS", "ENDS IN", "BY", "COMMENT")]
    for s in silences:
        ends = human_duration(s.ends_at_ns - now_ns)
        if s.starts_at_ns > now_ns:
            ends += f" (starts in {human_duration(s.starts_at_ns - now_ns)})"
        rows.append(
            (s.id, " ".join(str(m) for m in s.matchers), ends, s.created_by or "-", s.comment)
        )
    return _table(rows)


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


# ---------------------------------------------------------------------- the verbs
def run_alerts(args: argparse.Namespace) -> int:
    """`poolmon alerts [NAME] [--json]`, or `poolmon alerts check FILE`."""
    if args.target == CHECK:
        if not args.file:
            raise CliError(
                "usage: poolmon alerts check FILE (a pool named 'check': give its socket path)"
            )
        from poolmon.runtime.alerting.check import check_rule_file

        return check_rule_file(args.file)
    if args.file:
        raise CliError(f"unexpected argument {args.file!r} (did you mean `poolmon alerts check`?)")
    view, history = fetch_view(args.target, history=args.history)
    if args.json:
        out: dict[str, Any] = {"view": view.to_wire()}
        if args.history:
            out["history"] = [a.to_wire() for a in history]
        print(json.dumps(out, indent=2))
        return 0
    now = time.time_ns()
    print(format_alerts(view, now))
    if args.history:
        print(f"\nhistory ({len(history)}):")
        for a in history:
            span = human_duration((a.resolved_at_ns or now) - a.active_since_ns)
            print(f"  {a.id}  {a.severity:<8} {a.rule}  lasted {span}")
    return 0


def run_ack(args: argparse.Namespace) -> int:
    """`poolmon ack NAME ALERT_ID [--comment TEXT]`."""
    sent: dict[str, Any] = {"alert_id": args.alert_id}
    if args.comment:
        sent["comment"] = args.comment
    result = call(args.name, "ack_alert", sent, read_only=False)
    print(f"acknowledged {result['alert_id']} as {result['by']}")
    return 0


def run_silence(args: argparse.Namespace) -> int:
    """`poolmon silence NAME MATCHER... (--for DURATION | --until TIME) [--comment TEXT]`."""
    try:
        matchers = [Matcher.parse(m) for m in args.matchers]
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if (args.duration is None) == (args.until is None):
        raise CliError("say how long: --for DURATION (15m, 1h, 1d) or --until ISO-TIME")
    seconds = (
        parse_duration(args.duration)
        if args.duration is not None
        else seconds_until(args.until, time.time())
    )
    sent = {
        "matchers": [[m.label, m.op, m.value] for m in matchers],
        "duration_s": seconds,
        "comment": args.comment or "",
    }
    result = call(args.name, "silence", sent, read_only=False)
    ends = datetime.fromtimestamp(result["ends_at_ns"] / 1e9).isoformat(timespec="seconds")
    print(f"silence {result['silence_id']} until {ends}")
    return 0


def run_silences(args: argparse.Namespace) -> int:
    """`poolmon silences [NAME] [--json]`."""
    view, _ = fetch_view(args.name)
    if args.json:
        print(json.dumps([s.to_wire() for s in view.silences], indent=2))
    else:
        print(format_silences(view.silences, time.time_ns()))
    return 0


def run_unsilence(args: argparse.Namespace) -> int:
    """`poolmon unsilence NAME SILENCE_ID`."""
    result = call(args.name, "unsilence", {"silence_id": args.silence_id}, read_only=False)
    print(f"removed silence {result['silence_id']}")
    return 0
