"""Parse the `[notify]` and `[[channels]]` tables of an alerts file into a `NotifyConfig`.

The caller (the alert rule file loader) has already read the TOML: it hands over the document,
a `line_of(key_path)` that finds a key's line, and the file's path. Every problem in the file is
collected, not just the first, and raised together as one `NotifyConfigError` whose lines read
`file:line: message`, so a user fixes the whole file in one pass. Unknown keys get a did-you-mean,
settings of another channel kind say which kind they belong to, and a secret written into the
file (`password = ...`, an Authorization header) is refused without echoing it.

Defaults (why they differ from Alertmanager's 30s / 5m / 4h) are explained in
docs/ALERTS_CHANNELS.md: one pool evaluates every second, so an incident's alerts arrive within a
few seconds of each other, not spread over a fleet's scrape intervals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from poolmon.core.alerts.model import Matcher
from poolmon.core.alerts.notify_model import (
    KINDS,
    WEBHOOK_FORMATS,
    ChannelConfig,
    EmailSettings,
    FileSettings,
    LogSettings,
    NotifyConfig,
    RateLimit,
    RetryPolicy,
    Settings,
    Timing,
    WebhookSettings,
)
from poolmon.core.alerts.notify_reader import LineOf, Path, TableReader
from poolmon.core.alerts.rulefile import RuleFile
from poolmon.core.alerts.rules import did_you_mean
from poolmon.core.errors import ConfigError


class NotifyConfigError(ConfigError):
    """The notification settings are wrong; `problems` lists each as `file:line: message`."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


TIMING_KEYS: Final = ("group_by", "group_wait", "group_interval", "repeat_interval")
NOTIFY_KEYS: Final = (*TIMING_KEYS, "resend_interval")
COMMON_KEYS: Final = (
    "name", "kind", "matchers", "send_resolved", "rate_per_minute", "burst", "max_attempts",
    "backoff_base", "backoff_cap", "timeout", "queue_size", *TIMING_KEYS,
)  # fmt: skip
KIND_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "log": (),
    "file": ("path", "max_bytes", "backups"),
    "webhook": ("url", "format", "headers", "token_env", "token_file", "token_header"),
    "email": (
        "host", "port", "starttls", "username", "password_env", "password_file", "from", "to",
        "subject_prefix", "ca_file",
    ),
}  # fmt: skip
SECRET_KEYS: Final[Mapping[str, str]] = {
    "password": "password_env or password_file",
    "token": "token_env or token_file",
    "secret": "an _env or _file setting",
}
"""Keys that would put a secret in the file, and what to use instead."""

_SECRET_HEADER = re.compile(r"(?i)authorization|cookie|token|secret|api-?key|password")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_LOOPBACK: Final = ("localhost", "127.0.0.1", "::1")


def parse_notify(doc: Mapping[str, Any], line_of: LineOf, path: str) -> NotifyConfig:
    """The notification setup of one alerts file (defaults when it has none).

    Args:
        doc: The whole parsed TOML document.
        line_of: The line of a key path such as `("channels", 0, "url")`, or None.
        path: The file's path, for messages and to resolve relative file paths.

    Raises:
        NotifyConfigError: Listing every problem found, each as `file:line: message`.
    """
    parser = _Parser(line_of, path)
    config = parser.parse(doc)
    if parser.problems:
        raise NotifyConfigError(parser.problems)
    return config


def notify_config_of(rule_file: RuleFile) -> NotifyConfig:
    """The notification setup of a parsed rule file (`parse_notify` on its document)."""
    return parse_notify(rule_file.doc, rule_file.line_of, rule_file.path)


class _Parser(TableReader):
    """Reads the notify tables; every problem is collected and reading goes on."""

    def parse(self, doc: Mapping[str, Any]) -> NotifyConfig:
        """Read `[notify]` and every `[[channels]]` table."""
        notify = doc.get("notify", {})
        if not isinstance(notify, Mapping):
            self.problem(("notify",), "[notify] must be a table")
            notify = {}
        self.unknown(("notify",), notify, NOTIFY_KEYS)
        timing = self.timing(("notify",), notify, Timing())
        resend = self.duration(("notify", "resend_interval"), notify, 60.0, minimum=1.0)
        raw = doc.get("channels", [])
        if not isinstance(raw, list):
            self.problem(("channels",), "channels must be an array of tables: [[channels]]")
            raw = []
        channels: list[ChannelConfig] = []
        seen: set[str] = set()
        for i, table in enumerate(raw):
            if not isinstance(table, Mapping):
                self.problem(("channels", i), "each [[channels]] entry must be a table")
                continue
            channel = self.channel(("channels", i), table, timing)
            if channel is None:
                continue
            if channel.name in seen:
                self.problem(
                    ("channels", i, "name"), f"channel name {channel.name!r} is used twice"
                )
            seen.add(channel.name)
            channels.append(channel)
        return NotifyConfig(timing=timing, resend_interval_s=resend, channels=tuple(channels))

    def unknown(self, at: Path, table: Mapping[str, Any], known: Sequence[str]) -> None:
        """Report keys that are not in `known`, with a did-you-mean or the kind they belong to."""
        for key in table:
            if key in known:
                continue
            where = (*at, key)
            if key in SECRET_KEYS or key.endswith(("_password", "_token", "_secret")):
                self.problem(where, f"never write a secret into the file: use {_secret_hint(key)}")
                continue
            owner = next((k for k, keys in KIND_KEYS.items() if key in keys), None)
            if owner is not None and "kind" in table:
                self.problem(
                    where, f"{key!r} is a {owner} setting, not one of kind {table['kind']!r}"
                )
                continue
            self.problem(where, f"unknown setting {key!r}{did_you_mean(key, known)}")

    def timing(self, at: Path, table: Mapping[str, Any], base: Timing) -> Timing:
        """Grouping and timers from `table`, inheriting `base`; repeat rounded up to the tick."""
        group_by = base.group_by
        if "group_by" in table:
            value = table["group_by"]
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                group_by = tuple(value)
            else:
                self.problem((*at, "group_by"), "group_by must be a non-empty list of label names")
        wait = self.duration((*at, "group_wait"), table, base.group_wait_s, minimum=0.0)
        interval = self.duration((*at, "group_interval"), table, base.group_interval_s, 1.0)
        repeat = self.duration((*at, "repeat_interval"), table, base.repeat_interval_s, 1.0)
        ticks = -(-repeat // interval)  # ceil: repeats are only checked at group ticks
        return Timing(group_by, wait, interval, max(1.0, ticks) * interval)

    def channel(self, at: Path, table: Mapping[str, Any], timing: Timing) -> ChannelConfig | None:
        """One `[[channels]]` table, or None when it is too broken to describe."""
        name = self.string((*at, "name"), table, required=True)
        if name and not _NAME.fullmatch(name):
            self.problem((*at, "name"), f"name {name!r} may use letters, digits, '_', '.', '-'")
        kind = table.get("kind")
        if kind not in KINDS:
            self.problem((*at, "kind"), f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
            self.unknown(at, {k: v for k, v in table.items() if k != "kind"}, _all_keys())
            return None
        self.unknown(at, table, (*COMMON_KEYS, *KIND_KEYS[kind]))
        matchers: list[Matcher] = []
        raw = table.get("matchers", [])
        if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
            self.problem((*at, "matchers"), 'matchers must be a list like ["severity=critical"]')
            raw = []
        for text in raw:
            try:
                matchers.append(Matcher.parse(text))
            except ValueError as exc:
                self.problem((*at, "matchers"), str(exc))
        per_minute = self.number(
            (*at, "rate_per_minute"), table, 10.0 if kind == "email" else 30.0, 0, 1e6
        )
        burst = self.number(
            (*at, "burst"), table, 5 if kind == "email" else 10, 1, 1e6, integer=True
        )
        attempts = self.number((*at, "max_attempts"), table, 4, 1, 20, integer=True)
        base = self.duration((*at, "backoff_base"), table, 1.0, minimum=0.001)
        cap = self.duration((*at, "backoff_cap"), table, max(60.0, base), minimum=base)
        config = ChannelConfig(
            name=name,
            kind=kind,
            settings=self.settings(at, kind, table),
            matchers=tuple(matchers),
            send_resolved=self.flag((*at, "send_resolved"), table, kind != "email"),
            timing=self.timing(at, table, timing),
            rate=RateLimit(per_minute, int(burst)),
            retry=RetryPolicy(int(attempts), base, cap),
            timeout_s=self.duration((*at, "timeout"), table, 10.0, minimum=0.01),
            queue_size=int(self.number((*at, "queue_size"), table, 64, 1, 100_000, integer=True)),
        )
        if config.resends and not config.send_resolved:
            self.problem(
                (*at, "send_resolved"),
                "an alertmanager receiver needs send_resolved = true: without it Alertmanager "
                "keeps a resolved alert firing until its endsAt passes",
            )
        return config

    def settings(self, at: Path, kind: str, table: Mapping[str, Any]) -> Settings:
        """The kind's own settings."""
        if kind == "file":
            return FileSettings(
                path=self.local_path((*at, "path"), table, required=True),
                max_bytes=int(
                    self.number((*at, "max_bytes"), table, 10 << 20, 1024, 1 << 40, integer=True)
                ),
                backups=int(self.number((*at, "backups"), table, 5, 0, 1000, integer=True)),
            )
        if kind == "webhook":
            return self.webhook(at, table)
        if kind == "email":
            return self.email(at, table)
        return LogSettings()

    def webhook(self, at: Path, table: Mapping[str, Any]) -> WebhookSettings:
        """Webhook settings: url, body format, extra headers, bearer token source."""
        url = self.string((*at, "url"), table, required=True)
        if re.match(r"[a-z]+://[^/\s]*@", url):
            self.problem(
                (*at, "url"),
                "never write a secret into the file: no user:password@ in url, use token_env "
                "or token_file",
            )
        elif url and not re.fullmatch(r"https?://[^/\s]+(/\S*)?", url):
            self.problem(
                (*at, "url"), f"url must be http://HOST[:PORT][/PATH] or https://..., got {url!r}"
            )
        fmt = table.get("format", "generic")
        if fmt not in WEBHOOK_FORMATS:
            self.problem(
                (*at, "format"), f"format must be one of {', '.join(WEBHOOK_FORMATS)}, got {fmt!r}"
            )
            fmt = "generic"
        headers: list[tuple[str, str]] = []
        raw = table.get("headers", {})
        if not isinstance(raw, Mapping):
            self.problem((*at, "headers"), 'headers must be a table like { "X-Team" = "ops" }')
            raw = {}
        for key, value in raw.items():
            if _SECRET_HEADER.search(key):
                self.problem(
                    (*at, "headers", key),
                    f"never write a secret into the file: set token_header = {key!r} and "
                    "token_env or token_file",
                )
            elif not isinstance(value, str) or not re.fullmatch(
                r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", key
            ):
                self.problem(
                    (*at, "headers", key),
                    f"header {key!r} must be a token name with a string value",
                )
            else:
                headers.append((key, value))
        token_header = self.string((*at, "token_header"), table, "Authorization")
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", token_header):
            self.problem((*at, "token_header"), f"token_header {token_header!r} is no header name")
        return WebhookSettings(
            url.rstrip("/") if fmt == "alertmanager" else url,
            fmt,
            tuple(headers),
            self.secret(at, table, "token"),
            token_header,
        )

    def email(self, at: Path, table: Mapping[str, Any]) -> EmailSettings:
        """Email settings: server, STARTTLS, AUTH with a password source, addresses."""
        host = self.string((*at, "host"), table, required=True)
        starttls = self.flag((*at, "starttls"), table, True)
        port = int(
            self.number((*at, "port"), table, 587 if starttls else 25, 1, 65535, integer=True)
        )
        username = self.string((*at, "username"), table)
        password = self.secret(at, table, "password")
        if bool(username) != (password is not None):
            self.problem((*at, "username"), "username and password_env/password_file go together")
        if username and not starttls and host not in _LOOPBACK:
            self.problem(
                (*at, "starttls"),
                "AUTH without starttls would send the password in the clear; set starttls = true",
            )
        sender = self.string((*at, "from"), table, required=True)
        to = table.get("to", [])
        if isinstance(to, str):
            to = [to]
        if (
            not isinstance(to, list)
            or not to
            or not all(isinstance(a, str) and "@" in a for a in to)
        ):
            self.problem((*at, "to"), 'to must be a list of addresses like ["ops@example.com"]')
            to = []
        if sender and "@" not in sender:
            self.problem(
                (*at, "from"), f"from must be an address like poolmon@example.com, got {sender!r}"
            )
        return EmailSettings(
            host=host,
            to=tuple(to),
            from_addr=sender,
            port=port,
            starttls=starttls,
            username=username,
            password=password,
            subject_prefix=self.string((*at, "subject_prefix"), table),
            ca_file=self.local_path((*at, "ca_file"), table),
        )


def _all_keys() -> tuple[str, ...]:
    return (*COMMON_KEYS, *(k for keys in KIND_KEYS.values() for k in keys))


def _secret_hint(key: str) -> str:
    for word, hint in SECRET_KEYS.items():
        if word in key:
            return hint
    return "an _env or _file setting"
