"""Shared pieces of the notification tests: alerts and views, TOML with line numbers, and a
real HTTP receiver on loopback that can answer 200, 429, 4xx, or hang."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from poolmon.core.alerts.model import FIRING, RESOLVED, Ack, Alert, AlertsView, labels_of
from poolmon.core.alerts.notify_config import notify_config_of
from poolmon.core.alerts.notify_model import NotifyConfig
from poolmon.core.alerts.rulefile import parse_rule_file

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def make_alert(
    rule: str = "HighErrorRate",
    *,
    id: str = "a1",  # noqa: A002 - the field's name
    state: str = FIRING,
    pool: str = "etl",
    severity: str = "warning",
    labels: dict[str, str] | None = None,
    summary: str = "Error rate of op resize above 5 %",
    value: float | None = 0.12,
    threshold: float | None = 0.05,
    fired_ns: int = T0,
    resolved_ns: int | None = None,
    ack: Ack | None = None,
    silenced_by: tuple[str, ...] = (),
    inhibited_by: str = "",
) -> Alert:
    all_labels = {"alertname": rule, "pool": pool, "severity": severity, **(labels or {})}
    if state == RESOLVED and resolved_ns is None:
        resolved_ns = fired_ns + 60 * 10**9
    return Alert(
        id=id,
        fingerprint=f"{rule}{sorted(all_labels.items())}",
        rule=rule,
        labels=labels_of(all_labels),
        annotations=(("summary", summary),),
        severity=severity,
        state=state,
        value=value,
        threshold=threshold,
        expr="error_rate{op} over 1m > 0.05",
        metric="error_rate",
        window_s=60,
        active_since_ns=fired_ns,
        fired_at_ns=None if state == "pending" else fired_ns,
        resolved_at_ns=resolved_ns,
        last_eval_ns=fired_ns,
        ack=ack,
        silenced_by=silenced_by,
        inhibited_by=inhibited_by,
    )


def view(*alerts: Alert, pool: str = "etl", revision: int = 1) -> AlertsView:
    return AlertsView(pool=pool, revision=revision, evaluated_at_ns=T0, alerts=alerts, rules=8)


def parse_text(text: str, path: str = "/etc/poolmon/alerts.toml") -> NotifyConfig:
    """Through the engine's rule-file parser, as a pool loading its alerts file does."""
    return notify_config_of(parse_rule_file(text, path))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll `predicate` until it is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(0.02)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class HttpSink:
    """A real HTTP server on loopback recording POSTs; `answers` scripts its replies in order
    (status, headers); `hang` makes it hold every request without answering."""

    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    hang: bool = False
    received: list[Received] = field(default_factory=list)
    port: int = 0
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@contextmanager
def http_sink(
    answers: list[tuple[int, dict[str, str]]] | None = None, *, hang: bool = False
) -> Iterator[HttpSink]:
    sink = HttpSink(answers=list(answers or []), hang=hang)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                sink.received.append(
                    Received(self.path, dict(self.headers), json.loads(body), time.monotonic())
                )
                status, headers = sink.answers.pop(0) if sink.answers else (200, {})
            if sink.hang:
                sink.release.wait(60)
                return
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    sink.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        sink.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
