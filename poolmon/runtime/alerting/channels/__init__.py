"""Notification channels (log, file, webhook, email) and the one place that builds them.

Each channel only knows how to deliver one notification; queuing, rate limits and retries are
the notifier's, the same for all (poolmon.runtime.alerting.delivery).
"""

from __future__ import annotations

from poolmon.core.alerts.notify_model import (
    ChannelConfig,
    EmailSettings,
    FileSettings,
    WebhookSettings,
)
from poolmon.runtime.alerting.channels.base import Channel, DeliveryError
from poolmon.runtime.alerting.channels.file import FileChannel
from poolmon.runtime.alerting.channels.log import LogChannel
from poolmon.runtime.alerting.channels.smtp import EmailChannel
from poolmon.runtime.alerting.channels.webhook import WebhookChannel
from poolmon.runtime.alerting.secret_source import read_secret

__all__ = ["Channel", "DeliveryError", "build_channel"]


def build_channel(config: ChannelConfig, resend_interval_s: float) -> Channel:
    """The channel `config` describes, with its secret read now.

    Raises:
        ConfigError: The channel's secret cannot be read (the message says where it should be).
    """
    s = config.settings
    what = f"channel {config.name!r}"
    if isinstance(s, WebhookSettings):
        token = None if s.token is None else read_secret(s.token, f"{what}: token")
        return WebhookChannel(
            config.name,
            s,
            timeout_s=config.timeout_s,
            resend_interval_s=resend_interval_s,
            token=token,
        )
    if isinstance(s, EmailSettings):
        password = None if s.password is None else read_secret(s.password, f"{what}: password")
        return EmailChannel(config.name, s, timeout_s=config.timeout_s, password=password)
    if isinstance(s, FileSettings):
        return FileChannel(config.name, s)
    return LogChannel(config.name)
