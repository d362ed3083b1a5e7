"""poolmon -> a REAL Alertmanager on loopback -> Alertmanager's own webhook notification.

The test starts Debian's `prometheus-alertmanager` binary with a minimal config (clustering
off, storage in tmp_path) whose receiver is a loopback HTTP server, then checks what a fleet
operator would: the alert poolmon fires is listed by Alertmanager's API with our labels and
routed to the receiver; when it resolves, Alertmanager no longer lists it and notifies the
resolution.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from notify_helpers import free_port, http_sink, make_alert, parse_text, view, wait_for

from poolmon.runtime.alerting.notifier import Notifier

pytestmark = pytest.mark.integration

BINARIES = ("prometheus-alertmanager", "alertmanager")


def alertmanager_binary() -> str:
    for name in BINARIES:
        found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/local/bin")
        if found:
            return found
    pytest.skip(
        "SKIPPED LOUDLY: no Alertmanager binary (looked for prometheus-alertmanager and "
        "alertmanager on PATH): the real-Alertmanager tests cannot run. Install it with "
        "`apt-get update && apt-get install -y prometheus-alertmanager` (.ci/run does this)."
    )


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read() or b"null")


class Alertmanager:
    def __init__(self, url: str, receiver_url: str) -> None:
        self.url = url
        self.receiver_url = receiver_url

    def alerts(self) -> list[dict[str, Any]]:
        return list(get(f"{self.url}/api/v2/alerts"))

    def ours(self, alert_id: str) -> list[dict[str, Any]]:
        return [a for a in self.alerts() if a["annotations"].get("poolmon_id") == alert_id]


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[tuple[Alertmanager, Any]]:
    binary = alertmanager_binary()
    with http_sink() as receiver:
        config = tmp_path / "alertmanager.yml"
        config.write_text(
            "route:\n"
            "  receiver: poolmon-test\n"
            "  group_by: [alertname, pool]\n"
            "  group_wait: 1s\n"
            "  group_interval: 1s\n"
            "  repeat_interval: 1h\n"
            "receivers:\n"
            "  - name: poolmon-test\n"
            "    webhook_configs:\n"
            f"      - url: {receiver.url}\n"
            "        send_resolved: true\n"
        )
        port = free_port()
        log = (tmp_path / "alertmanager.log").open("wb")
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    text = (tmp_path / "alertmanager.log").read_text()
                    pytest.fail(f"Alertmanager exited with {proc.returncode}:\n{text}")
                try:
                    with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("Alertmanager did not become ready within 30 s")
                time.sleep(0.1)
            yield Alertmanager(url, receiver.url), receiver
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            log.close()


def test_fire_then_resolve_through_a_real_alertmanager(
    alertmanager: tuple[Alertmanager, Any],
) -> None:
    am, receiver = alertmanager
    text = (
        '[notify]\nresend_interval = "2s"\n\n[[channels]]\nname = "am"\nkind = "webhook"\n'
        f'format = "alertmanager"\nurl = "{am.url}"\n'
    )
    notifier = Notifier(parse_text(text), "etl")
    notifier.start()
    try:
        fired_ns = time.time_ns()
        labels = {"op": "resize"}
        firing = make_alert(id="x1", labels=labels, severity="critical", fired_ns=fired_ns)
        notifier.update(view(firing))
        (listed,) = wait_for(lambda: am.ours("x1"), what="Alertmanager to list the alert")
        assert listed["labels"] == {
            "alertname": "HighErrorRate",
            "pool": "etl",
            "severity": "critical",
            "op": "resize",
        }
        assert listed["status"]["state"] == "active"
        assert listed["annotations"]["summary"] == "Error rate of op resize above 5 %"
        assert [r["name"] for r in listed["receivers"]] == ["poolmon-test"]
        # Alertmanager routed it on to its own receiver, grouped by its own route.
        first = wait_for(lambda: receiver.received, what="Alertmanager's webhook notification")
        assert first[0].body["status"] == "firing"
        assert first[0].body["alerts"][0]["labels"]["op"] == "resize"

        # Heartbeats: a resend moves endsAt forward, so Alertmanager keeps it firing.
        ends = datetime.fromisoformat(listed["endsAt"].replace("Z", "+00:00"))
        wait_for(
            lambda: [
                a
                for a in am.ours("x1")
                if datetime.fromisoformat(a["endsAt"].replace("Z", "+00:00")) > ends
            ],
            what="a resend to move endsAt forward",
        )

        resolved = make_alert(
            id="x1",
            labels={"op": "resize"},
            severity="critical",
            state="resolved",
            fired_ns=fired_ns,
            resolved_ns=time.time_ns(),
        )
        notifier.update(view(resolved))
        wait_for(lambda: not am.ours("x1"), what="Alertmanager to stop listing it as active")
        wait_for(
            lambda: any(r.body["status"] == "resolved" for r in receiver.received),
            what="Alertmanager's resolved notification",
        )
    finally:
        assert notifier.stop(5)
    stats = notifier.stats()["am"]
    assert stats.sent >= 3  # fire, at least one resend, resolve
    assert stats.failed == 0
