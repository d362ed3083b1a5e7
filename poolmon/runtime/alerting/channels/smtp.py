"""The email channel: SMTP with STARTTLS and AUTH, a plain-text body that reads well on a phone.

The subject is Alertmanager's (`[FIRING:2] HighErrorRate pool=etl`), so mail filters written for
Alertmanager work; the body puts the summary, value and threshold first in short lines
(`poolmon.core.alerts.notify_render.text_body`). STARTTLS verifies the server's certificate
against the system's CAs or `ca_file`; there is no "skip verification" switch, because a page
that leaks the SMTP password to whoever sits in the middle is worse than no page. Bad
credentials and refused recipients are permanent failures (retrying cannot fix them); connection
problems and 4xx answers are retried.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from poolmon.core.alerts.notify_groups import Notification
from poolmon.core.alerts.notify_model import EmailSettings, Secret
from poolmon.core.alerts.notify_render import text_body, title
from poolmon.runtime.alerting.channels.base import DeliveryError


class EmailChannel:
    """Sends each notification as one email to the configured recipients."""

    def __init__(
        self, name: str, settings: EmailSettings, *, timeout_s: float, password: Secret | None
    ) -> None:
        self.name = name
        self._s = settings
        self._timeout_s = timeout_s
        self._password = password

    def message(self, n: Notification) -> EmailMessage:
        """The email for `n`."""
        msg = EmailMessage()
        msg["Subject"] = title(n, self._s.subject_prefix)
        msg["From"] = self._s.from_addr
        msg["To"] = ", ".join(self._s.to)
        msg["Date"] = format_datetime(datetime.fromtimestamp(n.at_ns / 1e9, tz=UTC))
        msg["Message-ID"] = make_msgid(domain=self._s.from_addr.rpartition("@")[2] or None)
        msg["X-Poolmon-Group"] = n.group_key
        msg.set_content(text_body(n))
        return msg

    def send(self, n: Notification) -> None:
        """Deliver `n` through the SMTP server; raise `DeliveryError` on failure."""
        where = f"SMTP {self._s.host}:{self._s.port}"
        try:
            with smtplib.SMTP(self._s.host, self._s.port, timeout=self._timeout_s) as smtp:
                smtp.ehlo()
                if self._s.starttls:
                    context = ssl.create_default_context(cafile=self._s.ca_file or None)
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if self._s.username and self._password is not None:
                    smtp.login(self._s.username, self._password.reveal())
                smtp.send_message(self.message(n))
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{where}: login as {self._s.username!r} refused ({exc.smtp_code})", permanent=True
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"{where}: recipients refused: {', '.join(exc.recipients)}", permanent=True
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{where}: {exc}", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            raw = exc.smtp_error
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            raise DeliveryError(
                f"{where}: {exc.smtp_code} {text}", permanent=500 <= exc.smtp_code < 600
            ) from None
        except ssl.SSLError as exc:
            raise DeliveryError(f"{where}: TLS failed: {exc.reason or exc}") from None
        except TimeoutError:
            raise DeliveryError(f"{where}: no answer within {self._timeout_s:g}s") from None
        except (OSError, smtplib.SMTPException) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise DeliveryError(f"{where}: {reason or type(exc).__name__}") from None

    def close(self) -> None:
        """Nothing is kept open between sends."""
