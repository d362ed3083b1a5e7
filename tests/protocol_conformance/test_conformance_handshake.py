"""Conformance, sections 2, 3 and 7 of docs/PROTOCOL.md: handshake, framing errors, refusals.

The client half is `wireclient` (raw socket + msgpack, no poolmon); the server half is a real
`poolmon.Pool` (or, for what a healthy pool never does, a real endpoint around a stand-in).
Which test covers which clause of the spec: see `SPEC_CLAUSES` in test_conformance_stream.py.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest
import wireclient as wc
from conformance_servers import broken_endpoint, open_to_everyone, real_pool

pytestmark = pytest.mark.integration

_USER = "poolmonconf"


@pytest.fixture(scope="module")
def pool_path() -> Iterator[str]:
    with real_pool("conf_hs") as (_, path):
        yield path


def error_of(wire: wc.Wire) -> dict[str, object]:
    """The ERROR the server sends, after which it closes the connection (section 7)."""
    frames = wire.until_eof()
    assert [t for t, _ in frames] == [wc.ERROR], frames
    fields = frames[0][1]
    assert isinstance(fields["code"], str)
    assert isinstance(fields["message"], str)
    wire.close()
    return fields


def test_welcome_carries_every_field(pool_path: str) -> None:
    wire = wc.Wire(pool_path)
    welcome = wire.handshake(pid=os.getpid(), max_frame_size=wc.MIN_MAX_FRAME_SIZE)
    assert welcome["magic"] == "poolmon"
    assert welcome["version"] == 1
    assert welcome["pool"] == "conf_hs"
    assert welcome["pid"] == os.getpid()
    for key in ("started_at_ns", "catalog_version", "max_frame_size", "heartbeat_interval_ns"):
        assert isinstance(welcome[key], int), key
        assert welcome[key] > 0, key
    assert isinstance(welcome["host"], str)
    assert set(welcome["capabilities"]) >= {"events", "tasks", "history", "commands"}
    assert 0 <= welcome["oldest_seq"] <= welcome["next_seq"]
    assert welcome["read_only"] is False
    wire.send(wc.HEARTBEAT, {"ts_ns": 1})  # a client heartbeat is ignored (section 4)
    assert wire.command(1, "ping") == {"id": 1, "ok": True, "result": {"pong": True}, "reason": ""}
    wire.send(wc.CLOSE, {"reason": "client_exit"})  # orderly goodbye: the server closes
    assert wire.until_eof() == []


def test_read_only_is_granted_and_reported(pool_path: str) -> None:
    wire = wc.Wire(pool_path)
    assert wire.handshake(read_only=True)["read_only"] is True
    wire.close()


def test_version_mismatch(pool_path: str) -> None:
    wire = wc.Wire(pool_path)
    wire.send(wc.HELLO, wc.hello(version=2))
    assert error_of(wire)["code"] == "version"


@pytest.mark.parametrize(
    "fields",
    [
        {"magic": "notpoolmon", "version": 1},  # wrong magic
        {"magic": "poolmon"},  # version missing
        {"magic": "poolmon", "version": "1"},  # version of the wrong type
        {"magic": "poolmon", "version": 1, "read_only": "yes"},  # mistyped optional field
    ],
)
def test_bad_hello_is_a_protocol_error(pool_path: str, fields: dict[str, object]) -> None:
    wire = wc.Wire(pool_path)
    wire.send(wc.HELLO, fields)
    assert error_of(wire)["code"] == "protocol"


def test_max_frame_size_below_the_minimum_is_refused(pool_path: str) -> None:
    wire = wc.Wire(pool_path)
    wire.send(wc.HELLO, wc.hello(max_frame_size=wc.MIN_MAX_FRAME_SIZE - 1))
    err = error_of(wire)
    assert err["code"] == "protocol"
    assert "65536" in str(err["message"])
    wire = wc.Wire(pool_path)
    assert wire.handshake(max_frame_size=wc.MIN_MAX_FRAME_SIZE)["version"] == 1
    wire.close()


def test_first_frame_other_than_hello_is_unexpected(pool_path: str) -> None:
    wire = wc.Wire(pool_path)
    wire.send(wc.SUBSCRIBE, {})
    assert error_of(wire)["code"] == "unexpected"


@pytest.mark.parametrize(
    ("ftype", "fields"),
    [
        (wc.HISTORY_END, {"live_seq": 0}),
        (wc.REPLY, {"id": 1, "ok": True}),
        (wc.HELLO, wc.hello()),  # a second HELLO
    ],
)
def test_server_only_frame_from_a_client_is_unexpected(
    pool_path: str, ftype: int, fields: dict[str, object]
) -> None:
    wire = wc.Wire(pool_path)
    wire.handshake()
    wire.send(ftype, fields)
    assert error_of(wire)["code"] == "unexpected"


def test_client_error_ends_the_connection_without_an_answer(pool_path: str) -> None:
    wire = wc.Wire(pool_path)
    wire.handshake()
    wire.send(wc.ERROR, {"code": "protocol", "message": "the client gives up"})
    assert wire.until_eof() == []


@pytest.mark.parametrize(
    ("raw", "after_hello"),
    [
        (struct.pack(">I", 4) + b"\xc1\xc1\xc1\xc1", False),  # not msgpack (0xc1 is never used)
        (wc.frame_bytes(99, {}), True),  # unknown frame type
        (struct.pack(">I", 3) + msgpack.packb([1, 2]), False),  # not [type, fields-map]
        (struct.pack(">I", 0), True),  # zero length
        (struct.pack(">I", 9) + msgpack.packb("a string"), True),  # not an array
    ],
)
def test_garbage_is_a_protocol_error(pool_path: str, raw: bytes, after_hello: bool) -> None:
    wire = wc.Wire(pool_path)
    if after_hello:
        wire.handshake()
    wire.send_raw(raw)
    assert error_of(wire)["code"] == "protocol"


def test_oversized_length_prefix(pool_path: str) -> None:
    wire = wc.Wire(pool_path)
    wire.handshake()
    max_size = 16 * 1024 * 1024  # the WELCOME's max_frame_size
    wire.send_raw(struct.pack(">I", max_size + 1) + b"x" * 16)
    assert error_of(wire)["code"] == "oversized"


@pytest.mark.parametrize("after_hello", [False, True])
def test_frame_cut_short_by_half_close(pool_path: str, after_hello: bool) -> None:
    wire = wc.Wire(pool_path)
    if after_hello:
        wire.handshake()
    whole = wc.frame_bytes(wc.COMMAND, {"id": 1, "name": "ping", "args": {}})
    wire.send_raw(whole[:-3])
    wire.sock.shutdown(2 - 1)  # SHUT_WR: we can still read the ERROR
    err = error_of(wire)
    assert err["code"] == "protocol"
    assert "truncated" in str(err["message"])


def test_too_many_monitors(pool_path: str) -> None:
    held = [wc.Wire(pool_path) for _ in range(64)]  # the endpoint's default limit
    try:
        for wire in held[:1]:
            assert wire.handshake()["version"] == 1
        extra = wc.Wire(pool_path)
        err = error_of(extra)  # refused on accept, before its HELLO
        assert err["code"] == "forbidden"
        assert "monitors" in str(err["message"])
    finally:
        for wire in held:
            wire.close()


def test_internal_error_costs_one_connection() -> None:
    with broken_endpoint(broken_hello=True) as path:
        wire = wc.Wire(path)
        wire.send(wc.HELLO, wc.hello())
        assert error_of(wire)["code"] == "internal"
        other = wc.Wire(path)  # the endpoint still serves
        other.send(wc.COMMAND, {"id": 1, "name": "ping", "args": {}})
        assert error_of(other)["code"] == "unexpected"  # a command before HELLO


def test_no_hello_in_time_is_unexpected(monkeypatch: pytest.MonkeyPatch) -> None:
    import poolmon.runtime.endpoint.server as server_module

    monkeypatch.setattr(server_module, "_HANDSHAKE_TIMEOUT_NS", 300_000_000)  # 10 s in the spec
    with broken_endpoint(broken_hello=False, heartbeat_interval_s=0.2) as path:
        wire = wc.Wire(path)
        err = error_of(wire)
        assert err["code"] == "unexpected"
        assert "HELLO" in str(err["message"])


def test_shutdown_says_close(tmp_path: Path) -> None:
    with real_pool("conf_bye") as (pool, path):
        wire = wc.Wire(path)
        wire.handshake()
        pool.shutdown()
        frames = wire.until_eof()
        assert frames[-1] == (wc.CLOSE, {"reason": "shutdown"})


# ---------------------------------------------------------------- a peer of another uid
@pytest.fixture(scope="session")
def other_user() -> Iterator[tuple[int, int]]:
    """A throwaway user (created as root with useradd, removed afterwards): (uid, gid)."""
    if os.geteuid() != 0:
        pytest.skip("LOUD SKIP: creating a second user needs root; forbidden is untested here")
    if shutil.which("useradd") is None or shutil.which("setpriv") is None:
        pytest.skip("LOUD SKIP: useradd/setpriv missing; forbidden is untested here")
    created = False
    try:
        pwd.getpwnam(_USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--system", _USER], check=True)
        created = True
    entry = pwd.getpwnam(_USER)
    yield entry.pw_uid, entry.pw_gid
    if created:
        subprocess.run(["userdel", _USER], check=False)


def test_peer_of_another_uid_is_forbidden(other_user: tuple[int, int]) -> None:
    uid, gid = other_user
    # The client runs as the other user; this interpreter's own stdlib may sit in root's home,
    # so it uses the system's python3 with msgpack from our environment on its path.
    python = shutil.which("python3", path="/usr/bin:/usr/local/bin") or sys.executable
    base = "/var/tmp"  # /tmp may be 0700 (it is on the project's VM): the user could not reach it
    if not os.stat(base).st_mode & 0o001:
        pytest.skip(f"LOUD SKIP: {base} is not searchable by other users; forbidden is untested")
    # The checkout and its venv may sit where the other user cannot read (a CI clone in a
    # private /tmp): give it its own readable copy of the client and of msgpack.
    site = Path(tempfile.mkdtemp(prefix="poolmon-conf-", dir=base))
    site.chmod(0o755)
    client = site / "wireclient.py"
    shutil.copy(Path(wc.__file__).resolve(), client)
    shutil.copytree(Path(msgpack.__file__).resolve().parent, site / "msgpack")
    for path_ in [site, *site.rglob("*")]:
        path_.chmod(0o755 if path_.is_dir() else 0o644)
    try:
        run = _run_as(uid, gid, python, client, site, base)
    finally:
        shutil.rmtree(site, ignore_errors=True)
    assert run.returncode == 0, run.stderr
    ftype, fields = json.loads(run.stdout)
    assert ftype == wc.ERROR, fields
    assert fields["code"] == "forbidden", fields
    assert str(uid) in fields["message"]


def _run_as(
    uid: int, gid: int, python: str, client: Path, site: Path, base: str
) -> subprocess.CompletedProcess[str]:
    """Run the wire client as `uid` against a real pool whose socket lives in `base`."""
    with real_pool("conf_uid", base=base) as (_, path):
        open_to_everyone(path)
        run = subprocess.run(
            [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={gid}",
                "--clear-groups",
                python,
                str(client),
                path,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
            check=False,
        )
    return run
