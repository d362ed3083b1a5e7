"""Notification channels (log, file, webhook, email) and the one place that builds them.

Each channel only knows how to deliver one notification; queuing, rate limits and retries are
the notifier's, the same for all (poolmon.runtime.alerting.delivery).
"""

from __future__ import annotations

from poolmon.core.alerts.notify_model import (
    ChannelConfig,
    EmailSettings,
    FileSettings,
    Secret,
    WebhookSettings,
)
from poolmon.runtime.alerting.channels.base import Channel, DeliveryError
from poolmon.runtime.alerting.channels.file import FileChannel
from poolmon.runtime.alerting.channels.log import LogChannel
from poolmon.runtime.alerting.channels.smtp import EmailChannel
from poolmon.runtime.alerting.channels.webhook import WebhookChannel

__all__ = ["Channel", "DeliveryError", "build_channel"]


def build_channel(
    config: ChannelConfig, resend_interval_s: float, secret: Secret | None = None
) -> Channel:
    """The channel `config` describes, with its secret (token or password) already read.

    The secrets are read before any channel is built
    (`poolmon.runtime.alerting.secret_source.read_channel_secrets`), so building cannot fail.
    """
    s = config.settings
    if isinstance(s, WebhookSettings):
        return WebhookChannel(
            config.name,
            s,
            timeout_s=config.timeout_s,
            resend_interval_s=resend_interval_s,
            token=secret,
        )
    if isinstance(s, EmailSettings):
        return EmailChannel(config.name, s, timeout_s=config.timeout_s, password=secret)
    if isinstance(s, FileSettings):
        return FileChannel(config.name, s)
    return LogChannel(config.name)
