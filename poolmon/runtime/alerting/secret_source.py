"""Read a channel's secret (SMTP password, webhook token) from the environment or a file.

Read once, when `Pool(...)` loads its alerts file (`read_channel_secrets`), so a missing
variable or unreadable file makes the constructor raise, naming the channel and where the
secret should be, before any worker starts: not a pool that runs with its notifications off,
nor a failed page at 3 a.m. The value is wrapped in a `Secret` whose repr and str are masked;
messages name where the secret should be, never what it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from poolmon.core.alerts.notify_config import NotifyConfigError
from poolmon.core.alerts.notify_model import (
    ChannelConfig,
    EmailSettings,
    NotifyConfig,
    Secret,
    SecretRef,
    WebhookSettings,
)
from poolmon.core.errors import ConfigError


def read_secret(ref: SecretRef, what: str) -> Secret:
    """The secret `ref` names; `what` says whose it is in errors (e.g. `channel ops: token`).

    Raises:
        ConfigError: The variable is unset or empty, or the file is missing, unreadable or empty.
    """
    if ref.env:
        value = os.environ.get(ref.env, "")
        if not value:
            raise ConfigError(f"{what}: environment variable {ref.env} is not set or empty")
        return Secret(value)
    path = Path(ref.file).expanduser()
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what}: {path} is not UTF-8 text") from None
    if not value:
        raise ConfigError(f"{what}: {path} is empty")
    return Secret(value)


def read_channel_secrets(config: NotifyConfig) -> dict[str, Secret]:
    """Every channel's secret, read now, by channel name (channels without one are left out).

    Why all at once: the pool reads them when it loads its alerts file, so that one missing
    secret fails `Pool(...)` with every such problem listed, rather than a pool running with
    some or all of its channels off.

    Raises:
        NotifyConfigError: A secret cannot be read; one line per channel, e.g.
            `channel 'ops': token: environment variable HOOK_TOKEN is not set or empty`.
    """
    secrets: dict[str, Secret] = {}
    problems: list[str] = []
    for channel in config.channels:
        ref, what = _secret_ref(channel)
        if ref is None:
            continue
        try:
            secrets[channel.name] = read_secret(ref, f"channel {channel.name!r}: {what}")
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise NotifyConfigError(problems)
    return secrets


def _secret_ref(channel: ChannelConfig) -> tuple[SecretRef | None, str]:
    """Where the channel's secret is and what it is called in messages (None: it has none)."""
    s = channel.settings
    if isinstance(s, WebhookSettings):
        return s.token, "token"
    if isinstance(s, EmailSettings):
        return s.password, "password"
    return None, ""
