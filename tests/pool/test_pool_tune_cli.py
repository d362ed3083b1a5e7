"""`poolmon tune` against a real pool: show, change (from -> to), refusals that change nothing."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from poolmon.cli import main
from poolmon.runtime.endpoint.paths import socket_dir
from poolmon.runtime.pool import Pool

pytestmark = pytest.mark.integration


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private XDG_RUNTIME_DIR, so `tune NAME` finds exactly our pool by its name."""
    with tempfile.TemporaryDirectory(prefix="pmc", dir="/tmp") as path:
        monkeypatch.setenv("XDG_RUNTIME_DIR", path)
        yield socket_dir()


def test_tune_shows_changes_and_refuses(
    runtime_dir: Path, make_pool: Callable[..., Pool], capsys: pytest.CaptureFixture[str]
) -> None:
    pool = make_pool(2, name="clitune", monitor=True, max_size=6)
    assert (runtime_dir / "clitune.sock").exists()

    assert main(["tune", "clitune", "--show"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("pool clitune: ")
    assert "SETTING" in text
    assert "task_timeout_s" in text
    assert "no timeout" in text  # a None value is shown as what it means
    assert "1..6" in text  # size's range comes from the pool

    assert main(["tune", "clitune", "--show", "--json"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)["settings"]}
    assert rows["size"]["value"] == 2

    assert main(["tune", "clitune", "size=3", "task_timeout_s=7.5", "on_queue_full=block"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "size: 2 -> 3",
        "task_timeout_s: none -> 7.5",
        "on_queue_full: raise -> block",
    ]
    assert pool.size == 3
    assert pool.stats().task_timeout_s == 7.5

    # parsed before sending: a typo names the accepted range, nothing is sent or changed
    assert main(["tune", "clitune", "size=4", "queue_bound=lots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("poolmon tune: queue_bound must be a whole number (1..10000000 or none)")
    assert "nothing was changed" in err
    # refused by the pool itself (the end state breaks the ordering): its reason, exit 2
    assert main(["tune", "clitune", "size=5", "max_size=4"]) == 2
    assert "size 5 would be above max_size 4" in capsys.readouterr().err
    assert pool.size == 3

    assert main(["tune", "clitune", "task_timeout_s=none", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"changed": {"task_timeout_s": [7.5, None]}}
    assert main(["tune", "clitune", "size=3"]) == 0
    assert capsys.readouterr().out.strip() == "nothing changed: every value was already set"
    assert main(["tune", "nosuchpool", "--show"]) == 2
