"""The webhook channel: a JSON POST, in poolmon's generic body or Alertmanager's API v2 body.

Plain `http.client`, one connection per send (a notification a minute does not need pooling, and
a fresh connection cannot be a stale one). The answer decides what happens next: 2xx is done;
429 and 503 are retried after the receiver's `Retry-After` when it gives one (Alertmanager#2111
is what happens to a sender that ignores it); other 5xx, 408, timeouts and refused connections
are retried with backoff; any other 4xx is permanent, since the same body will be refused again.
The token, when configured, is sent as `Authorization: Bearer ...` (or as itself in the
configured `token_header`) and appears nowhere else: error messages carry the URL without
credentials, the status and the start of the answer.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import poolmon
from poolmon.core.alerts.notify_groups import Notification
from poolmon.core.alerts.notify_model import Secret, WebhookSettings
from poolmon.core.alerts.notify_render import alertmanager_body, generic_body
from poolmon.runtime.alerting.channels.base import DeliveryError

AM_PATH = "/api/v2/alerts"
"""Where an Alertmanager receives alerts, under the configured base URL."""


class WebhookChannel:
    """POSTs notifications as JSON to one URL."""

    def __init__(
        self,
        name: str,
        settings: WebhookSettings,
        *,
        timeout_s: float,
        resend_interval_s: float,
        token: Secret | None = None,
    ) -> None:
        self.name = name
        self._alertmanager = settings.format == "alertmanager"
        url = settings.url + AM_PATH if self._alertmanager else settings.url
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._shown = f"{parts.scheme}://{parts.netloc}{parts.path}"
        self._timeout_s = timeout_s
        self._resend_interval_s = resend_interval_s
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": f"poolmon/{poolmon.__version__}",
            **dict(settings.headers),
        }
        self._token = token
        self._token_header = settings.token_header

    def body(self, n: Notification) -> Any:
        """The JSON value this channel POSTs for `n`."""
        if self._alertmanager:
            return alertmanager_body(n, self._resend_interval_s)
        return generic_body(n)

    def send(self, n: Notification) -> None:
        """POST `n`; raise `DeliveryError` saying whether and when to retry."""
        data = json.dumps(self.body(n), separators=(",", ":")).encode()
        headers = dict(self._headers)
        if self._token is not None:
            secret = self._token.reveal()
            bearer = self._token_header.lower() == "authorization"
            headers[self._token_header] = f"Bearer {secret}" if bearer else secret
        conn: http.client.HTTPConnection
        if self._https:
            context = ssl.create_default_context()
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout_s, context=context
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout_s)
        try:
            conn.request("POST", self._target, body=data, headers=headers)
            response = conn.getresponse()
            answer = response.read(2048)
        except TimeoutError:
            raise DeliveryError(
                f"POST {self._shown}: no answer within {self._timeout_s:g}s"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise DeliveryError(f"POST {self._shown}: {_reason(exc)}") from None
        finally:
            conn.close()
        status = response.status
        if 200 <= status < 300:
            return
        text = answer.decode("utf-8", "replace").strip().replace("\n", " ")[:200]
        message = f"POST {self._shown}: HTTP {status} {response.reason}" + (
            f": {text}" if text else ""
        )
        if status in (429, 503):
            retry_after = _retry_after_s(response.getheader("Retry-After"))
            raise DeliveryError(message, retry_after_s=retry_after)
        raise DeliveryError(message, permanent=400 <= status < 500 and status != 408)

    def close(self) -> None:
        """Nothing is kept open between sends."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the receiver running?)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
