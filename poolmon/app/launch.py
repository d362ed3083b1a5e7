"""`poolmon attach` and `poolmon demo`: find the pool, check it answers, run the app.

Everything a user can get wrong is checked before the full-screen app starts, so the answer is
one clear line on stderr (via `poolmon.cli`, which prints `PoolmonError`s), never a traceback
or a screen that only says "disconnected": no pool found, several pools and no terminal to
choose with, a path where nothing listens, a pool speaking another protocol version.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from poolmon.core.config.layers import Effective
from poolmon.core.errors import ConfigError, ConnectionFailed, PoolmonError

if TYPE_CHECKING:
    from poolmon.app.app import PoolmonApp

WINDOW_NAMES = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600}
"""`--window` values and their seconds."""

DEMO_START_TIMEOUT_S = 30.0
"""How long `poolmon demo` waits for its pool's socket before giving up."""


def app_settings(args: argparse.Namespace) -> Effective:
    """poolmon.toml and POOLMON_* with this command's flags on top (a flag always wins)."""
    from poolmon.runtime import config

    return config.current().with_arguments(
        {
            ("app", "refresh"): (getattr(args, "refresh", None), "--refresh"),
            ("app", "window"): (getattr(args, "window", None), "--window"),
            ("endpoint", "read_only"): (getattr(args, "read_only", None), "--read-only"),
        }
    )


def refresh_hz(args: argparse.Namespace) -> float:
    """The refresh rate: `--refresh`, else [app] refresh; between 0.2 and 30 per second."""
    return float(app_settings(args).get("app", "refresh"))


def pick_socket(given: str | None) -> Path:
    """The socket to attach to: the given one, the only live pool, or one the user picks."""
    from poolmon.runtime.commands import describe_pool, resolve_socket
    from poolmon.runtime.endpoint.paths import list_sockets

    if given or not sys.stdin.isatty():
        return resolve_socket(given)
    alive = [p for p in list_sockets() if describe_pool(p)["state"] == "alive"]
    if len(alive) <= 1:
        return resolve_socket(None)
    print("Several pools are running:")
    for number, path in enumerate(alive, 1):
        print(f"  {number}. {path.name.removesuffix('.sock')}  ({path})")
    answer = input(f"Attach to which one [1-{len(alive)}]? ").strip()
    if not answer.isdigit() or not 1 <= int(answer) <= len(alive):
        raise ConfigError(f"no pool numbered {answer!r}")
    return alive[int(answer) - 1]


def check_reachable(path: Path, read_only: bool) -> None:
    """Shake hands once, so a wrong path or protocol fails here with a clear message."""
    from poolmon.runtime.client import MonitorClient

    client = MonitorClient(path, read_only=read_only, history=False, timeout_s=3.0)
    try:
        client.connect(subscribe=False)
    finally:
        client.close()


def attach(
    path: Path, *, read_only: bool, window_s: int, hz: float, theme: str = "textual-dark"
) -> int:
    """Run the app attached to the pool at `path` until the user quits."""
    from poolmon.app.tty_check import require_terminal

    require_terminal("attach")  # a redirected stream would leave the screen blank
    app = build_app(path, read_only=read_only, window_s=window_s, hz=hz)
    app.theme = theme
    app.run()
    return 0


def build_app(path: Path, *, read_only: bool, window_s: int, hz: float) -> PoolmonApp:
    """The monitor, started first, then the app around it (`attach`'s code path, and the bench's).

    The monitor connects and takes the pool's history (15 busy minutes are a million bucket
    counts to decode and fold) in its own thread while this one imports Textual and builds
    the app, about half a second of work that used to come first; the pool prepares the
    backfill meanwhile. `PoolmonApp.on_mount` starting the source again is a no-op.
    """
    from poolmon.runtime.monitor import Monitor

    monitor = Monitor(path, read_only=read_only)
    monitor.start()
    from poolmon.app.app import PoolmonApp

    return PoolmonApp(monitor, window_s=window_s, refresh_hz=hz, read_only=read_only)


def run_attach(args: argparse.Namespace) -> int:
    """`poolmon attach [TARGET ...|--all] [--[no-]read-only] [--refresh HZ] [--window W]`.

    TARGET is a name, a socket path or ssh://[user@]host[:port]/NAME; for ssh the forward lives
    exactly as long as the app (`runtime.targets.open_target`).
    """
    from poolmon.app.fleet_launch import run_fleet, wants_fleet
    from poolmon.app.tty_check import require_terminal
    from poolmon.runtime.ssh.url import is_ssh
    from poolmon.runtime.targets import open_target

    if getattr(args, "replay", None):  # `attach --replay FILE`: the same as `replay FILE`
        from poolmon.app.replay_launch import run_replay

        return run_replay(args)
    if wants_fleet(args):  # several targets or --all: the pools overview
        require_terminal("attach")
        return run_fleet(args)
    eff = app_settings(args)
    read_only = bool(eff.get("endpoint", "read_only"))
    spec = getattr(args, "socket", None)
    if isinstance(spec, list):  # `attach [TARGET ...]`: here, one or none
        spec = spec[0] if spec else None
    if spec is None:  # the picker asks on the terminal
        require_terminal("attach")
    if is_ssh(spec):
        with open_target(spec, batch=not sys.stdin.isatty()) as target:
            check_reachable(target.path, read_only)
            return attach_with(target.path, eff, read_only)
    path = pick_socket(spec)
    check_reachable(path, read_only)
    return attach_with(path, eff, read_only)


def attach_with(path: Path, eff: Effective, read_only: bool) -> int:
    """`attach` with the window, refresh rate and theme of the effective configuration."""
    return attach(
        path,
        read_only=read_only,
        window_s=WINDOW_NAMES[eff.get("app", "window")],
        hz=float(eff.get("app", "refresh")),
        theme=str(eff.get("app", "theme")),
    )


def run_demo(args: argparse.Namespace) -> int:
    """`poolmon demo`: a demo pool in a child process, and the app attached to it."""
    workers = int(getattr(args, "workers", 4))
    if not 1 <= workers <= 256:
        raise ConfigError(f"--workers must be between 1 and 256, got {workers}")
    headless = getattr(args, "headless_seconds", None)
    if headless is not None:
        return _run_headless(workers, float(headless))
    from poolmon.app.tty_check import require_terminal

    require_terminal("demo")  # before the demo pool starts
    eff = app_settings(args)
    with tempfile.TemporaryDirectory(prefix="poolmon-demo-") as folder:
        socket_path = Path(folder) / "demo.sock"
        log_path = Path(folder) / "demo.log"
        child = start_demo_pool(socket_path, workers, log_path, eff.file)
        try:
            wait_for_socket(socket_path, child, log_path)
            return attach_with(socket_path, eff, read_only=False)
        finally:
            stop_child(child)


def start_demo_pool(
    socket_path: Path, workers: int, log_path: Path, config_file: str | None = None
) -> subprocess.Popen[bytes]:
    """Start `python -m poolmon.demo` serving `socket_path`; its output goes to `log_path`.

    The demo pool reads the same poolmon.toml as this command (`--config` included).
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if config_file:
        env["POOLMON_CONFIG"] = config_file
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "poolmon.demo", "--socket", str(socket_path),
             "--workers", str(workers)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )  # fmt: skip


def wait_for_socket(path: Path, child: subprocess.Popen[bytes], log_path: Path) -> None:
    """Wait until the demo pool listens; a child that died or hangs is an error with its log."""
    from poolmon.runtime.endpoint.paths import probe

    deadline = time.monotonic() + DEMO_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise PoolmonError(
                f"the demo pool exited with code {child.returncode}:\n{_tail(log_path)}"
            )
        if path.exists() and probe(path):
            return
        time.sleep(0.1)
    raise ConnectionFailed(f"the demo pool did not start within {DEMO_START_TIMEOUT_S:.0f}s")


def stop_child(child: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """SIGTERM the child, wait, and SIGKILL it if it does not exit in time."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def _run_headless(workers: int, seconds: float) -> int:
    """Run the demo pool in this process for `seconds`, printing one line of stats a second."""
    from poolmon.demo.service import DemoService

    with tempfile.TemporaryDirectory(prefix="poolmon-demo-") as folder:
        service = DemoService("demo", workers, Path(folder) / "demo.sock").start()
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(min(1.0, max(0.0, end - time.monotonic())))
                stats = service.pool.stats()
                totals = stats.totals
                print(
                    f"{stats.uptime_s:6.1f}s size {stats.size} queue {stats.queue_depth} "
                    f"done {totals.succeeded} failed {totals.failed} crashed {totals.crashed}",
                    flush=True,
                )
        finally:
            service.stop()
    return 0
