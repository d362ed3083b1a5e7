"""`poolmon watch`: the headless watcher's command - serve /metrics, or print once as JSON.

The HTTP side is prometheus_client's own WSGI server over a private registry holding only the
`WatchCollector`; it picks the Prometheus text format or OpenMetrics from the scraper's
`Accept` header. Where it listens and which pools it watches are the `[watch]` settings
(`listen`, `pools`) with the command line on top: `--metrics-listen` and pool names win over
`--set`, POOLMON_WATCH_*, poolmon.toml and the defaults, in that order. /metrics has no
authentication, so the listen address must be loopback unless the operator typed another one
on the command line (`--metrics-listen`, `--set watch.listen=`; then the watcher says on
stderr that the metrics are reachable from other machines); a file or variable setting one
is refused by `poolmon watch` and `config check` (`unattended_problem`), not by the pool and
the other commands, which read the same file and never serve /metrics.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, start_http_server

from poolmon.core.config.layers import Effective
from poolmon.core.config.schema import BY_NAME
from poolmon.core.config.values import loopback_host, unattended_problem
from poolmon.core.errors import ConfigError
from poolmon.runtime.endpoint.paths import socket_dir
from poolmon.runtime.source import LIVE
from poolmon.runtime.watch.collector import Caps, WatchCollector
from poolmon.runtime.watch.watcher import Watcher

DEFAULT_LISTEN = "127.0.0.1:9464"
"""Loopback, on the port registered for poolmon-like exporters' default range."""


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """Where /metrics is served."""

    host: str
    port: int

    @property
    def loopback(self) -> bool:
        """Whether only this machine can connect."""
        return loopback_host(self.host)


def parse_listen(value: str, *, explicit: bool, source: str = "--metrics-listen") -> ListenAddress:
    """`HOST:PORT` or `[V6]:PORT`; a non-loopback host only when typed by the operator.

    Args:
        value: The address.
        explicit: Typed on the command line (see the module doc).
        source: Where `value` came from, for the error messages.

    Raises:
        ConfigError: Malformed, a bad port, or a non-loopback address not given explicitly.
    """
    host, sep, port_s = value.rpartition(":")
    if not sep or not host or not port_s.isdigit():
        raise ConfigError(f"{source} {value!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    host = host.removeprefix("[").removesuffix("]")
    port = int(port_s)
    if not 0 <= port <= 65535:
        raise ConfigError(f"{source} {value!r}: port must be 0-65535")
    addr = ListenAddress(host, port)
    refused = None if explicit else unattended_problem(BY_NAME[("watch", "listen")], value)
    if refused:
        raise ConfigError(f"{source}: {refused}")
    return addr


def watch_settings(args: argparse.Namespace) -> Effective:
    """poolmon.toml, POOLMON_WATCH_* and `--set` with this command's flags on top."""
    from poolmon.runtime import config

    names = list(args.targets) or None  # no name given: the configured pools, if any
    return config.current().with_arguments(
        {
            ("watch", "listen"): (args.metrics_listen, "--metrics-listen"),
            ("watch", "pools"): (names, "NAME|SOCKET arguments"),
        }
    )


class MetricsServer:
    """prometheus_client's HTTP server over a registry with one `WatchCollector`."""

    def __init__(self, collector: WatchCollector, addr: ListenAddress) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        self.collector = collector
        self._httpd, self._thread = start_http_server(addr.port, addr.host, self.registry)
        self.port: int = self._httpd.server_port

    def url(self) -> str:
        """The /metrics address to scrape."""
        raw = self._httpd.server_address[0]
        host = raw.decode() if isinstance(raw, bytes) else str(raw)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and release the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def resolve_targets(targets: list[str]) -> list[Path]:
    """Socket paths for `NAME|SOCKET` arguments (a bare name is looked up in the folder)."""
    from poolmon.runtime.locate import pools_hint

    out = []
    for t in targets:
        if t.startswith("ssh://"):
            raise ConfigError(
                f"{t}: poolmon watch attaches to pools on this machine only; run a watcher on "
                "that host (Prometheus scrapes each machine's watcher)"
            )
        path = Path(t)
        if "/" not in t and not path.exists():
            path = socket_dir() / f"{t}.sock"
            if not path.exists():
                raise ConfigError(
                    f"no pool named {t!r}: looked for {t}.sock in the socket folder "
                    f"{socket_dir()}; {pools_hint(socket_dir(), t)}"
                )
        out.append(path)
    return out


def _only_pool() -> Path:
    """With no pool named and no --all, the only pool running, as `status` and `attach` do."""
    from poolmon.core.errors import ConnectionFailed
    from poolmon.runtime.commands import resolve_socket

    try:
        return resolve_socket(None)
    except ConnectionFailed as exc:
        raise ConfigError(f"{exc}; or pass --all to watch every pool there") from exc


def _say(msg: str) -> None:
    print(f"poolmon watch: {msg}", file=sys.stderr, flush=True)


def run_once(watcher: Watcher, timeout_s: float) -> int:
    """Wait until every pool is live and backfilled (or `timeout_s`), print JSON, exit code.

    Live tasks reach the watcher as closed seconds' rollups, so once live it also waits for
    each pool's rollup of the current second (about 0.6-1.6 s): every task that had finished
    when the watcher attached is then counted, however the backfill cut the rows.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if watcher.monitors and all(
            m.status().state == LIVE and m.frames_seen for m in watcher.monitors.values()
        ):
            time.sleep(0.3)  # the status frame after the backfill
            break
        time.sleep(0.1)
    second = time.time_ns() // 10**9
    while time.monotonic() < deadline and any(
        (m.rollups_until_s() or 0) <= second for m in watcher.monitors.values()
    ):
        time.sleep(0.1)
    figures = watcher.figures()
    watcher.announce()
    for path, detail in watcher.unreached():
        _say(f"could not attach to {path}: {detail}")
    doc = {
        "taken_at_ns": time.time_ns(),
        "pools": [f.to_json() for f in figures],
        "skipped_stale_sockets": sorted(str(p) for p in watcher.skipped),
    }
    print(json.dumps(doc, indent=2))
    return 0 if figures and all(f.state == LIVE for f in figures) else 1


def run_watch(args: argparse.Namespace) -> int:
    """`poolmon watch [NAME|SOCKET...] [--all] [--metrics-listen H:P] [--once --json]`.

    The pools: those named, else `[watch] pools`, else (without --all) the only pool running.
    """
    if args.once and not args.json:
        raise ConfigError("--once prints JSON: pass --once --json")
    settings = watch_settings(args)
    targets = [str(t) for t in settings.get("watch", "pools")]
    if not targets and not args.all:
        targets = [str(_only_pool())]
    listen = settings.setting("watch", "listen")  # refused here, not where every command reads it
    addr = parse_listen(
        str(listen.value), explicit=listen.source == "argument", source=listen.where or "default"
    )
    caps = Caps(max_ops=args.max_ops, max_workers=args.max_workers)
    watcher = Watcher(resolve_targets(targets), discover=args.all, log=_say)
    watcher.start()
    try:
        if args.once:
            return run_once(watcher, args.timeout)
        if not addr.loopback:
            _say(f"serving /metrics on {addr.host}:{addr.port}: reachable from other machines")
        server = MetricsServer(WatchCollector(watcher.figures, caps), addr)
        _say(f"serving {server.url()}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(1.0):
                pass
        finally:
            server.close()
        return 0
    finally:
        watcher.stop()
