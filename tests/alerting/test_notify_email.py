"""The email channel against a real SMTP server (aiosmtpd) on loopback, with STARTTLS and AUTH
using a throwaway self-signed certificate made by the openssl CLI."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from notify_helpers import free_port, make_alert, parse_text, view, wait_for

from poolmon.runtime.alerting.notifier import Notifier

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:  # pragma: no cover - the dev extra installs it
    pytest.skip(
        "aiosmtpd is missing: the email tests need a real SMTP server; install the dev extra "
        "(python3 scripts/dev.py test) or `pip install aiosmtpd`",
        allow_module_level=True,
    )

USER, PASSWORD = "poolmon", "s3cret-pw-never-printed"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip(
            "the openssl CLI is missing (apt-get install -y openssl): it makes the "
            "throwaway certificate the STARTTLS tests need"
        )
    d = tmp_path_factory.mktemp("tls")
    key, crt = d / "key.pem", d / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, crt


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []
        self.logins: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
            )
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:  # fmt: skip
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        if ok:
            with self.lock:
                self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp(cert: tuple[Path, Path]) -> Iterator[tuple[int, Inbox]]:
    key, crt = cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=inbox.authenticate,
    )
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def mail_config(port: int, crt: Path, extra: str = "") -> str:
    return (
        '[notify]\ngroup_wait = 0\n\n[[channels]]\nname = "mail"\nkind = "email"\n'
        f'host = "localhost"\nport = {port}\nusername = "{USER}"\n'
        'password_env = "POOLMON_TEST_SMTP_PW"\nfrom = "poolmon@example.com"\n'
        f'to = ["ops@example.com", "oncall@example.com"]\nca_file = "{crt}"\n'
        f'max_attempts = 2\nbackoff_base = "50ms"\n{extra}'
    )


def test_an_alert_is_mailed_over_starttls_with_auth(
    smtp: tuple[int, Inbox], cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, inbox = smtp
    monkeypatch.setenv("POOLMON_TEST_SMTP_PW", PASSWORD)
    notifier = Notifier(parse_text(mail_config(port, cert[1], 'subject_prefix = "[prod]"')), "etl")
    notifier.start()
    try:
        two = (make_alert(id="a1", labels={"op": "resize"}, severity="critical"),
               make_alert(id="a2", labels={"op": "crop"}))  # fmt: skip
        notifier.update(view(*two))
        wait_for(lambda: inbox.messages, what="the email")
    finally:
        assert notifier.stop(5)
    sender, rcpts, msg = inbox.messages[0]
    assert inbox.logins == [USER]
    assert sender == "poolmon@example.com"
    assert rcpts == ["ops@example.com", "oncall@example.com"]
    assert msg["Subject"] == "[prod] [FIRING:2] HighErrorRate pool=etl"
    body = msg.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert body.startswith("FIRING: 2\n\n[critical] Error rate of op resize above 5 %\n")
    assert "  op=crop\n" in body
    assert notifier.stats()["mail"].sent == 1


def test_a_refused_login_fails_once_and_never_prints_the_password(
    smtp: tuple[int, Inbox], cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, inbox = smtp
    monkeypatch.setenv("POOLMON_TEST_SMTP_PW", "wrong-" + PASSWORD)
    errors: list[str] = []
    notifier = Notifier(parse_text(mail_config(port, cert[1])), "etl",
                        on_error=lambda m, e: errors.append(f"{m} {e!r}"))  # fmt: skip
    notifier.start()
    try:
        notifier.update(view(make_alert()))
        wait_for(lambda: errors, what="the failure report")
    finally:
        notifier.stop(5)
    assert inbox.messages == []
    (error,) = errors
    assert "login as 'poolmon' refused (535)" in error
    assert "after 1 attempt" in error  # bad credentials are not retried
    assert PASSWORD not in error
    assert PASSWORD not in repr(notifier.stats())


def test_an_untrusted_certificate_is_refused(
    smtp: tuple[int, Inbox], cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, inbox = smtp
    monkeypatch.setenv("POOLMON_TEST_SMTP_PW", PASSWORD)
    errors: list[str] = []
    text = mail_config(port, cert[1]).replace(f'ca_file = "{cert[1]}"\n', "")
    notifier = Notifier(parse_text(text), "etl", on_error=lambda m, e: errors.append(m))
    notifier.start()
    try:
        notifier.update(view(make_alert()))
        wait_for(lambda: errors, what="the failure report")
    finally:
        notifier.stop(5)
    assert "TLS failed" in errors[0]
    assert inbox.messages == []
    assert inbox.logins == []
