"""A real Prometheus server on loopback, scraping given targets every second (test helper)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

PROMETHEUS = shutil.which("prometheus")


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prometheus:
    """Query helper over a running server's HTTP API."""

    def __init__(self, base: str) -> None:
        self.base = base

    def query(self, expr: str) -> dict[str, Any]:
        """Run an instant PromQL query; the API's `data` (raises on an API error)."""
        url = f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                doc = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{expr}: {exc.read().decode()}") from exc
        assert doc["status"] == "success", doc
        return dict(doc["data"])

    def scalar(self, expr: str) -> float | None:
        """The single value of a query returning one series, or None when empty."""
        result = self.query(expr)["result"]
        return float(result[0]["value"][1]) if result else None


@contextmanager
def prometheus(tmp_path: Path, target: str) -> Iterator[Prometheus]:
    """Start Prometheus scraping `target` (host:port) every 1 s; stop it after."""
    if PROMETHEUS is None:
        pytest.skip(
            "LOUD SKIP: prometheus not installed (apt-get install prometheus; .ci/run does)"
        )
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: poolmon\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "prometheus did not start: " + (tmp_path / "prometheus.log").read_text()[-2000:]
                )
            time.sleep(0.2)
        yield Prometheus(base)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
