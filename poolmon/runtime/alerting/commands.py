"""The endpoint's alert commands: ack_alert, silence, unsilence and alerts (docs/PROTOCOL.md §6).

Why a module of its own: these check a monitor's arguments (types, ranges, matchers) and turn
engine errors into refusals with the reason, which is most of their code; the service only
owns the engine and the once-a-second work. They run in the endpoint's thread, like the hook.

Who acknowledged or silenced is never taken from the arguments: it is the login name of the
socket peer's uid (`Caller.user`, from SO_PEERCRED), so a monitor cannot sign as someone else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from poolmon.core.alerts.model import AlertError, Matcher
from poolmon.runtime.endpoint.control import Caller, CommandHandler, Refused

if TYPE_CHECKING:
    from poolmon.runtime.alerting.service import AlertService

MAX_SILENCE_S: Final = 366 * 86400.0
"""Longest silence a command may set (a year): longer is almost surely a typo."""
MAX_COMMENT: Final = 1000
"""Longest acknowledgment or silence comment kept, in characters."""
HISTORY_REPLY: Final = 1000
"""Ended alerts an `alerts {history: true}` reply carries by default, newest first."""
MAX_REPLY: Final = 5000
"""Most a reply may carry (`limit`): about 1.5 KiB each, well under the 16 MiB frame limit."""


def register_alert_commands(commands: CommandHandler, service: AlertService) -> None:
    """Add the four alert commands to an endpoint's command table."""

    def ack_alert(args: Mapping[str, Any], caller: Caller) -> Mapping[str, Any]:
        alert_id = _text(args, "alert_id", required=True)
        comment = _text(args, "comment")
        now = service.engine_time()
        try:
            service.engine.ack(alert_id, caller.user, comment, now)
        except AlertError as exc:
            raise Refused(str(exc)) from None
        service.note_ack(alert_id, caller.user)
        service.changed(now)
        return {"alert_id": alert_id, "by": caller.user}

    def silence(args: Mapping[str, Any], caller: Caller) -> Mapping[str, Any]:
        matchers = parse_matchers(args.get("matchers"))
        duration = args.get("duration_s")
        if (
            isinstance(duration, bool)
            or not isinstance(duration, int | float)
            or not math.isfinite(duration)
            or not 0 < duration <= MAX_SILENCE_S
        ):
            raise Refused(
                f"argument 'duration_s' must be a number of seconds in (0, {MAX_SILENCE_S:.0f}], "
                f"got {duration!r}"
            )
        comment = _text(args, "comment")
        now = service.engine_time()
        ends = now + int(duration * 1e9)
        try:
            made = service.engine.add_silence(matchers, ends, caller.user, comment, now)
        except AlertError as exc:
            raise Refused(str(exc)) from None
        service.changed(now)
        return {"silence_id": made.id, "ends_at_ns": made.ends_at_ns}

    def unsilence(args: Mapping[str, Any], caller: Caller) -> Mapping[str, Any]:
        silence_id = _text(args, "silence_id", required=True)
        now = service.engine_time()
        try:
            removed = service.engine.remove_silence(silence_id, now)
        except AlertError as exc:
            raise Refused(str(exc)) from None
        service.changed(now)
        return {"silence_id": removed.id}

    def alerts(args: Mapping[str, Any]) -> Mapping[str, Any]:
        history = args.get("history", False)
        if not isinstance(history, bool):
            raise Refused(f"argument 'history' must be true or false, got {history!r}")
        limit = args.get("limit", HISTORY_REPLY)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_REPLY:
            raise Refused(f"argument 'limit' must be an integer in 1..{MAX_REPLY}, got {limit!r}")
        out: dict[str, Any] = {"view": service.view.to_wire()}
        if history:
            out["history"] = [a.to_wire() for a in service.engine.history(limit)]
        return out

    commands.register("ack_alert", ack_alert, read=False, caller=True)
    commands.register("silence", silence, read=False, caller=True)
    commands.register("unsilence", unsilence, read=False, caller=True)
    commands.register("alerts", alerts, read=True)


def parse_matchers(raw: Any) -> tuple[Matcher, ...]:
    """`[[label, op, value], ...]` from the wire as Matchers; Refused with the reason if bad."""
    if not isinstance(raw, list | tuple) or not raw:
        raise Refused(
            f"argument 'matchers' must be a non-empty list of [label, op, value], got {raw!r}"
        )
    out = []
    for item in raw:
        if (
            not isinstance(item, list | tuple)
            or len(item) != 3
            or not all(isinstance(part, str) for part in item)
        ):
            raise Refused(f"matcher {item!r} is not [label, op, value] (three strings)")
        label, op, value = item
        if not label.isidentifier():
            raise Refused(f"matcher label {label!r} is not a label name")
        try:
            out.append(Matcher(label, op, value))
        except ValueError as exc:
            raise Refused(f"matcher {label}{op}{value}: {exc}") from None
    return tuple(out)


def _text(args: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = args.get(key, None if required else "")
    if value is None and not required:
        value = ""
    if not isinstance(value, str) or (required and not value):
        kind = "a non-empty string" if required else "a string"
        raise Refused(f"argument {key!r} must be {kind}, got {value!r}")
    if len(value) > MAX_COMMENT:
        raise Refused(f"argument {key!r} is longer than {MAX_COMMENT} characters")
    return value
