"""A pool whose monitor endpoint cannot start says so where the user created it, and still runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from poolmon import Pool
from poolmon.runtime.endpoint.paths import probe


def test_a_second_pool_at_a_live_socket_warns_runs_and_leaves_the_first_alone(
    short_dir: Path,
) -> None:
    sock = short_dir / "taken.sock"
    with Pool(1, name="first", monitor=sock) as first:
        first.wait_ready(30)
        inode = sock.stat().st_ino
        with pytest.warns(RuntimeWarning, match="already serving at .*taken.sock") as caught:
            second = Pool(1, name="second", monitor=sock)
        try:
            assert caught[0].filename == __file__  # points at the line that made the pool
            assert "'second'" in str(caught[0].message)
            assert second.submit(pow, 2, 10).result(timeout=30) == 1024  # it runs
        finally:
            second.shutdown()
        assert sock.stat().st_ino == inode  # the first pool's socket untouched
        assert probe(sock)
