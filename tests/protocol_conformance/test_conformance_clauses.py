"""Which conformance test checks which clause of docs/PROTOCOL.md, and that none is missing.

The table is the index a reader (or the next change to the spec) uses to find the test of a
clause; the tests below keep it honest: every test it names exists, and every frame type and
every ERROR code the spec lists appears in it.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import wireclient as wc

SPEC = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"

CLAUSES: tuple[tuple[str, str, str], ...] = (
    (
        "§2 framing: length prefix, [type, fields] (every test reads frames so)",
        "stream",
        "test_live_stream_follows_live_seq_and_carries_every_task",
    ),
    (
        "§2 max_frame_size minimum 65,536 refused below",
        "handshake",
        "test_max_frame_size_below_the_minimum_is_refused",
    ),
    (
        "§2 zero length / bad msgpack / not [type, map] / unknown type",
        "handshake",
        "test_garbage_is_a_protocol_error",
    ),
    ("§2 length above max_frame_size: oversized", "handshake", "test_oversized_length_prefix"),
    (
        "§2 no frame above the client's max_frame_size",
        "stream",
        "test_batches_fit_a_small_max_frame_size",
    ),
    ("§3 HELLO -> WELCOME, every WELCOME field", "handshake", "test_welcome_carries_every_field"),
    ("§3 read_only granted", "handshake", "test_read_only_is_granted_and_reported"),
    ("§3 ERROR version", "handshake", "test_version_mismatch"),
    ("§3 bad HELLO: protocol", "handshake", "test_bad_hello_is_a_protocol_error"),
    (
        "§3 first frame not HELLO: unexpected",
        "handshake",
        "test_first_frame_other_than_hello_is_unexpected",
    ),
    ("§3/§7 forbidden: peer of another uid", "handshake", "test_peer_of_another_uid_is_forbidden"),
    ("§3/§7 forbidden: too many monitors", "handshake", "test_too_many_monitors"),
    (
        "§4 SUBSCRIBE; first live BATCH at live_seq; seq = previous end",
        "stream",
        "test_live_stream_follows_live_seq_and_carries_every_task",
    ),
    (
        "§4 event and task records, the eight columns",
        "stream",
        "test_live_stream_follows_live_seq_and_carries_every_task",
    ),
    ("§4 event prefixes, [] = none, tasks=false", "stream", "test_subscription_filters"),
    ("§4 HEARTBEAT fields; client HEARTBEAT ignored", "stream", "test_heartbeat"),
    (
        "§4 HEARTBEAT fields; client HEARTBEAT ignored",
        "handshake",
        "test_welcome_carries_every_field",
    ),
    (
        "§5 resume: from resume_seq, last BATCH ends at live_seq, resumed",
        "history",
        "test_resume_is_exact",
    ),
    (
        "§5 resume_seq beyond next_seq: backfill, lost 0",
        "history",
        "test_resume_beyond_next_seq_gets_a_backfill",
    ),
    ("§5 resume_seq no longer held: backfill, lost", "history", "test_resume_too_old_counts_lost"),
    (
        "§5 no ROLLUPS frame at all; history=false: HISTORY_END only",
        "history",
        "test_fresh_pool_has_no_rollups",
    ),
    ("§5 no ROLLUPS frame at all; history=false: HISTORY_END only", "history", "test_no_history"),
    ("§5 ROLLUPS, until_s, each task once", "history", "test_backfill_rollups_and_percentiles"),
    ("§5 rollup histograms and percentiles", "history", "test_backfill_rollups_and_percentiles"),
    (
        "§6 COMMAND -> REPLY with reason; ping; stats wire form, monitors int",
        "commands",
        "test_ping_and_stats",
    ),
    (
        "§6 ok / refused REPLY, poolmon.control.command result",
        "commands",
        "test_commands_ok_and_refused",
    ),
    ("§6 set_health_check_interval 0.01 .. 3600", "commands", "test_commands_ok_and_refused"),
    ("§6 unknown command", "commands", "test_unknown_command"),
    ("§6 read-only refusal", "commands", "test_read_only_refusal"),
    ("§6 error (valid command failing in the pool)", "commands", "test_command_error_in_the_pool"),
    ("§7 truncated frame (client half-closed)", "handshake", "test_frame_cut_short_by_half_close"),
    (
        "§7 unexpected: server-only frame; no HELLO in time",
        "handshake",
        "test_server_only_frame_from_a_client_is_unexpected",
    ),
    (
        "§7 unexpected: server-only frame; no HELLO in time",
        "handshake",
        "test_no_hello_in_time_is_unexpected",
    ),
    ("§7 internal", "handshake", "test_internal_error_costs_one_connection"),
    (
        "§7 ERROR from a client: closed without an answer",
        "handshake",
        "test_client_error_ends_the_connection_without_an_answer",
    ),
    ("§7 CLOSE both ways", "handshake", "test_welcome_carries_every_field"),
    ("§7 CLOSE both ways", "handshake", "test_shutdown_says_close"),
)
"""(clause of the spec, test module suffix, test function): module `test_conformance_<suffix>`."""


def test_every_named_test_exists() -> None:
    for _, suffix, name in CLAUSES:
        module = importlib.import_module(f"test_conformance_{suffix}")
        assert callable(getattr(module, name, None)), f"{suffix}::{name} is gone"


def test_every_error_code_and_frame_type_is_covered() -> None:
    text = SPEC.read_text(encoding="utf-8")
    section = text.split("## 7.", 1)[1].split("## 8.", 1)[0]
    codes = set(re.findall(r"^\| `([a-z]+)` \|", section, re.MULTILINE))
    assert codes >= {"protocol", "oversized", "version", "unexpected", "forbidden", "internal"}
    covered = " ".join(clause for clause, _, _ in CLAUSES)
    for code in codes:
        assert code in covered, f"ERROR {code} has no conformance test"
    for name in wc.NAMES.values():
        assert name in covered or name.replace("_", " ") in covered, f"{name} has no test"
