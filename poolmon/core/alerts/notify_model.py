"""What a notification setup is, once parsed: timing, channels, their limits and secret sources.

Plain frozen dataclasses, built by `poolmon.core.alerts.notify_config` from the `[notify]` and
`[[channels]]` tables of an alerts file and read by the runtime notifier. Kept apart from the
parser so the router, the renderers and the runtime depend on the shapes, not on TOML.

Secrets are never held here: a `SecretRef` names where a secret lives (an environment variable
or a file), and the runtime reads it at start into a `Secret`, whose repr and str are masked so a
log line, a traceback or an error message cannot print it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from poolmon.core.alerts.model import Alert, Matcher

KINDS: Final = ("log", "file", "webhook", "email")
"""Channel kinds."""

WEBHOOK_FORMATS: Final = ("generic", "alertmanager")
"""Webhook bodies: poolmon's own JSON, or Alertmanager's API v2 alert list."""

MASK: Final = "****"
"""What a secret prints as."""


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret is read from at start: an environment variable or a file (one of them)."""

    env: str = ""
    file: str = ""

    def __str__(self) -> str:
        return f"${self.env}" if self.env else f"file {self.file}"


class Secret:
    """A secret's value, masked in repr and str; `reveal()` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one call that must send it (AUTH, Authorization)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Timing:
    """Alertmanager's grouping and timers, in seconds (see docs/ALERTS_CHANNELS.md).

    Attributes:
        group_by: Label names whose values split alerts into groups; `("...",)` puts every
            alert in a group of its own.
        group_wait_s: How long a new group waits before its first notification, so alerts of
            one incident that fire a few evaluations apart go out together.
        group_interval_s: The group's tick: later notifications go out at ticks, and only
            when an alert was added or resolved since the last one.
        repeat_interval_s: An unchanged group with unacknowledged firing alerts is notified
            again after this long; a multiple of `group_interval_s` (rounded up, as
            Alertmanager does, because it is only checked at ticks).
    """

    group_by: tuple[str, ...] = ("alertname", "pool")
    group_wait_s: float = 10.0
    group_interval_s: float = 60.0
    repeat_interval_s: float = 3600.0

    def group_of(self, labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        """The group-by label pairs of an alert (all its labels for `...`)."""
        if "..." in self.group_by:
            return tuple(sorted(labels.items()))
        return tuple((name, labels.get(name, "")) for name in self.group_by)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: `burst` sends at once, refilled at `per_minute`; 0 means unlimited."""

    per_minute: float = 30.0
    burst: int = 10


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failed send is retried: exponential backoff from `base_s`, capped at `cap_s`."""

    max_attempts: int = 4
    base_s: float = 1.0
    cap_s: float = 60.0

    def delay_s(self, failed_attempts: int) -> float:
        """The wait after `failed_attempts` (>= 1) failures: base * 2^(n-1), capped."""
        return float(min(self.cap_s, self.base_s * 2.0 ** max(0, failed_attempts - 1)))


@dataclass(frozen=True, slots=True)
class LogSettings:
    """The log channel: records on logger `poolmon.alerts` (no settings of its own)."""


@dataclass(frozen=True, slots=True)
class FileSettings:
    """The file channel: one JSON object per line, rotated at `max_bytes` with `backups` kept."""

    path: str
    max_bytes: int = 10 * 1024 * 1024
    backups: int = 5


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """A JSON POST to `url`; `alertmanager` posts Alertmanager's v2 body to {url}/api/v2/alerts.

    The token goes in `token_header`: as `Bearer TOKEN` in `Authorization`, as itself in any
    other header (e.g. `X-Api-Key`).
    """

    url: str
    format: str = "generic"
    headers: tuple[tuple[str, str], ...] = ()
    token: SecretRef | None = None
    token_header: str = "Authorization"


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """SMTP delivery; the password is named by `password`, read at start."""

    host: str
    to: tuple[str, ...]
    from_addr: str
    port: int = 587
    starttls: bool = True
    username: str = ""
    password: SecretRef | None = None
    subject_prefix: str = ""
    ca_file: str = ""


Settings = LogSettings | FileSettings | WebhookSettings | EmailSettings


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """One notification channel: where, which alerts, how often, and how hard to try.

    Attributes:
        name: Unique name (in stats, errors and the generic webhook body).
        kind: log, file, webhook or email.
        settings: The kind's own settings.
        matchers: Only alerts matching all of them go to this channel (none: every alert).
        send_resolved: Whether resolutions are notified.
        timing: Grouping and timers (the `[notify]` ones unless the channel overrides them).
        rate: The channel's token bucket; a send it refuses is dropped and counted.
        retry: Attempts and backoff for failed sends.
        timeout_s: One attempt's time limit (webhook and email).
        queue_size: Notifications waiting for this channel at most; more are dropped, counted.
    """

    name: str
    kind: str
    settings: Settings
    matchers: tuple[Matcher, ...] = ()
    send_resolved: bool = True
    timing: Timing = Timing()
    rate: RateLimit = RateLimit()
    retry: RetryPolicy = RetryPolicy()
    timeout_s: float = 10.0
    queue_size: int = 64

    def selects(self, alert: Alert) -> bool:
        """Whether `alert` is routed to this channel by its matchers."""
        labels = alert.label_map
        return all(m.matches(labels) for m in self.matchers)

    @property
    def resends(self) -> bool:
        """True for an Alertmanager receiver: it gets every change at once and heartbeats."""
        return isinstance(self.settings, WebhookSettings) and self.settings.format == "alertmanager"


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """The whole notification setup of one alerts file.

    Attributes:
        timing: Default grouping and timers for channels that do not override them.
        resend_interval_s: How often firing alerts are re-sent to Alertmanager receivers, which
            resolve an alert whose `endsAt` passes; endsAt is set `ENDS_AT_RESENDS` resends ahead.
        channels: The channels, in file order.
    """

    timing: Timing = Timing()
    resend_interval_s: float = 60.0
    channels: tuple[ChannelConfig, ...] = ()


ENDS_AT_RESENDS: Final = 4
"""A firing alert's endsAt is this many resend intervals ahead (Grafana#38648: at least 3)."""
