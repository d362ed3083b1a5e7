"""`Pool(alerts=...)`: which rules and channels a pool alerts with, loaded once, at construction.

Why at construction: a rule file with a typo must fail `Pool(...)` with the file, line and
reason, not leave a pool running that silently never alerts. The channels' secrets (webhook
tokens, SMTP passwords) are read here too, for the same reason: a missing `token_env` variable
fails `Pool(...)` naming the channel and the variable, before any worker or thread starts,
rather than a pool running with its notifications off. The loaded setup is kept with the
pool's config and the alert service starts from it once the monitor endpoint is up.

Without any `[[channels]]` (the built-in pack, or a file with rules only), alerts still fire and
show in every monitor and in `poolmon alerts`, and go to one **log** channel: Python logging on
the `poolmon.alerts` logger, which is where an application's operator already looks and which
the application controls (level, handlers). See docs/ALERTS_RUNTIME.md.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from poolmon.core.errors import ConfigError

if TYPE_CHECKING:
    from poolmon.core.alerts.notify_model import NotifyConfig, Secret
    from poolmon.core.alerts.rules import RuleSet
    from poolmon.runtime.alerting.service import AlertService
    from poolmon.runtime.endpoint.server import EndpointServer
    from poolmon.runtime.telemetry import Telemetry

BUILT_IN = "the built-in rule pack"


@dataclass(frozen=True, slots=True)
class AlertSetup:
    """The rules and channels one pool alerts with.

    Attributes:
        rules: The rules (the built-in pack, or a file's).
        notify: Channels and notification timing.
        source: Where the rules came from: a file's path, or `BUILT_IN`.
        explicit: True when the user asked for alerting (a path, or `alerts=True`): a pool
            that then cannot alert (no monitor endpoint) says so as a `poolmon.error`.
        secrets: The channels' secrets by channel name, read when the setup was loaded.
    """

    rules: RuleSet
    notify: NotifyConfig
    source: str
    explicit: bool
    secrets: Mapping[str, Secret] = field(default_factory=dict, repr=False)


def check_alerts_setting(value: Any) -> None:
    """Refuse a value `Pool(alerts=...)` cannot mean (ConfigError naming what it accepts)."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str | os.PathLike) and os.fspath(value) not in ("", b""):
        return
    raise ConfigError(
        "alerts must be None (the built-in rule pack), a rule file path, or False (no "
        f"alerting), got {value!r}"
    )


def check_state_dir_setting(value: Any) -> None:
    """Refuse an `alert_state_dir` that is not None or a folder path."""
    if value is None:
        return
    if isinstance(value, str | os.PathLike) and os.fspath(value) not in ("", b""):
        return
    raise ConfigError(f"alert_state_dir must be None or a folder path, got {value!r}")


def default_notify() -> NotifyConfig:
    """One log channel, for a setup that names none (see the module docstring)."""
    from poolmon.core.alerts.notify_model import ChannelConfig, LogSettings, NotifyConfig

    return NotifyConfig(channels=(ChannelConfig(name="log", kind="log", settings=LogSettings()),))


def load_alert_setup(value: Any) -> AlertSetup | None:
    """The setup `Pool(alerts=value)` asks for; None when alerting is off.

    Raises:
        ConfigError: A value of the wrong type.
        RuleFileError: The rule file is missing or wrong (every problem with its line).
        NotifyConfigError: Its `[notify]`/`[[channels]]` tables are wrong, or a channel's
            secret cannot be read (`channel 'ops': token: environment variable HOOK_TOKEN is
            not set or empty`).
    """
    check_alerts_setting(value)
    if value is False:
        return None
    if value is None or value is True:
        from poolmon.core.alerts.defaults import default_rules

        return AlertSetup(default_rules(), default_notify(), BUILT_IN, explicit=value is True)
    from poolmon.core.alerts.notify_config import notify_config_of
    from poolmon.runtime.alerting.rules_io import load_rule_file
    from poolmon.runtime.alerting.secret_source import read_channel_secrets

    path = os.fspath(value)
    rule_file = load_rule_file(path)
    notify = notify_config_of(rule_file)
    if not notify.channels:  # keep the file's [notify] timing, add the log channel
        notify = dataclasses.replace(notify, channels=default_notify().channels)
    secrets = read_channel_secrets(notify)
    return AlertSetup(rule_file.rules, notify, str(path), explicit=True, secrets=secrets)


def start_alert_service(
    setup: AlertSetup,
    *,
    pool: str,
    telemetry: Telemetry,
    endpoint: EndpointServer,
    state_dir: str | None,
) -> AlertService:
    """Build the engine, the notifier and the service, restore the saved state, and start.

    The returned service's `stop()` saves the state and stops the notifier: call it after the
    endpoint has closed (services.py orders it so).
    """
    from poolmon.core.alerts.engine import AlertEngine
    from poolmon.runtime.alerting.notifier import Notifier
    from poolmon.runtime.alerting.service import AlertService
    from poolmon.runtime.alerting.state_file import StateFile, state_path

    engine = AlertEngine(setup.rules, pool=pool)
    state = StateFile(state_path(pool, state_dir), pool)
    service = AlertService(engine, pool=pool, telemetry=telemetry, state=state)
    service.notifier = Notifier(
        setup.notify, pool, on_error=service.notifier_error, secrets=setup.secrets
    )
    return service.start(endpoint)
