"""The alert state file: where it lives, atomic writes, and bad files set aside, never fatal."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from poolmon.runtime.alerting.state_file import (
    FILE_NAME,
    StateFile,
    default_state_root,
    safe_dir_name,
    state_path,
)


def test_default_location_follows_xdg_state_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert state_path("web") == tmp_path / "poolmon" / "web" / FILE_NAME
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")  # the spec says: absolute only
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_root() == tmp_path / "home" / ".local" / "state" / "poolmon"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert (
        state_path("web") == tmp_path / "home" / ".local" / "state" / "poolmon" / "web" / FILE_NAME
    )
    assert state_path("web", tmp_path / "given") == tmp_path / "given" / FILE_NAME


def test_pool_names_become_one_safe_path_component() -> None:
    assert safe_dir_name("web-1.prod") == "web-1.prod"
    assert safe_dir_name("../../etc") == "_.._etc"
    assert safe_dir_name("a b/c") == "a_b_c"
    assert safe_dir_name("...") == "_"


def test_save_then_load_round_trips_in_a_private_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / FILE_NAME
    store = StateFile(path, "web")
    assert store.load().state is None  # missing: a clean start, and no problem to report
    assert store.load().problem == ""
    state = {"alerts": [{"id": "a1", "value": 0.5}], "silences": [], "revision": 7}
    store.save(state, 123)
    assert store.writes == 1
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    doc = json.loads(path.read_text())
    assert doc == {"format": 1, "pool": "web", "saved_at_ns": 123, "engine": state}
    loaded = store.load()
    assert loaded.state == state
    assert loaded.problem == ""
    assert [p.name for p in path.parent.iterdir()] == [FILE_NAME]  # no temp file left behind


def test_a_failed_save_leaves_the_previous_file_intact(tmp_path: Path) -> None:
    store = StateFile(tmp_path / FILE_NAME, "web")
    store.save({"revision": 1}, 1)
    with pytest.raises(ValueError):
        store.save({"revision": float("nan")}, 2)  # not JSON: refused before anything is written
    assert store.load().state == {"revision": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAME]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"format": 99, "engine": {}}', "unknown format 99"),
        (b'{"format": 1, "engine": 3}', "'engine' section"),
    ],
)
def test_a_corrupted_file_is_set_aside_and_reported(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(content)
    loaded = StateFile(path, "web").load()
    assert loaded.state is None
    assert reason in loaded.problem
    assert loaded.moved_to is not None
    assert loaded.moved_to.name.startswith(f"{FILE_NAME}.corrupt-")
    assert loaded.moved_to.read_bytes() == content  # kept for a person to look at
    assert not path.exists()


def _load_as_nobody(path: Path) -> tuple[bool, str]:
    """Load `path` in a forked child that has dropped to uid/gid 65534 ("nobody").

    Root reads a file whatever its mode, so as root the unreadable case is checked the way
    it happens to a real user: in a process without the rights. Returns (state was None,
    problem text) from the child.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop rights, load, report, exit without running pytest's atexit
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            loaded = StateFile(path, "web").load()
            os.write(write_end, json.dumps([loaded.state is None, loaded.problem]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        reply = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the unprivileged child failed"
    was_none, problem = json.loads(reply)
    return bool(was_none), str(problem)


def test_an_unreadable_file_is_a_clean_start_with_the_reason(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    for traversed in (tmp_path, folder):  # let an unprivileged child reach the file
        traversed.chmod(0o755)
    path = folder / FILE_NAME
    path.write_text("{}")
    path.chmod(0)
    try:
        if os.geteuid() == 0:
            was_none, problem = _load_as_nobody(path)
        else:
            loaded = StateFile(path, "web").load()
            was_none, problem = loaded.state is None, loaded.problem
    finally:
        path.chmod(0o600)
    assert was_none
    assert "cannot read" in problem
    assert path.read_text() == "{}"  # nothing lost: the file is left where it was


def test_a_relative_path_is_fixed_when_the_file_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = StateFile(Path("rel") / FILE_NAME, "web")
    monkeypatch.chdir("/")
    store.save({"revision": 1}, 1)
    assert (tmp_path / "rel" / FILE_NAME).exists()
