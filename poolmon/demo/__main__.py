"""`python -m poolmon.demo --socket PATH`: a demo pool serving its monitor socket.

`poolmon demo` starts this in a child process (so the app's process is only the monitor) and
attaches to the socket. It runs until SIGTERM/SIGINT, or until its parent exits.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from poolmon.demo.service import DemoService


def main(argv: list[str] | None = None) -> int:
    """Start the pool, the endpoint, the resource sampler and the load; wait for a signal."""
    parser = argparse.ArgumentParser(prog="python -m poolmon.demo")
    parser.add_argument("--socket", required=True, help="socket path to serve")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--name", default="demo")
    parser.add_argument("--rate", type=float, default=300.0, help="tasks submitted per second")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument(
        "--slowdown", type=float, default=1.0, help="every task takes this many times longer"
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid()
    service = DemoService(
        args.name, args.workers, args.socket, rate_per_s=args.rate, slowdown=args.slowdown
    ).start()
    try:
        waited = 0.0
        while not stop.wait(0.5):
            waited += 0.5
            if os.getppid() != parent:  # the app died without stopping us: do not linger
                break
            if args.seconds is not None and waited >= args.seconds:
                break
    finally:
        service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
