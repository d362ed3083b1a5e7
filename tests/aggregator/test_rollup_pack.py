"""Packed rollups: exactly the wire dict back, whatever the batches were; damage is an error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_rollup_fold import random_batch

from poolmon.core.errors import ProtocolError
from poolmon.core.rollup import Hist, Rollup, RollupBuilder
from poolmon.core.rollup_pack import PACK_PLAIN, as_lists, pack_rollup, unpack_rollup


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 3000))
def test_unpack_gives_back_the_exact_wire_form(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    builder = RollupBuilder()
    builder.add(random_batch(rng, n, ops=("a", "b", "c"), errs=("", "ValueError")))
    for rollup in builder.flush():
        wire = unpack_rollup(pack_rollup(rollup))
        assert wire == rollup.to_wire(packed=True)
        assert as_lists(wire) == rollup.to_wire()
        assert Rollup.from_wire(wire) == rollup


def test_an_empty_second_round_trips() -> None:
    rollup = Rollup(5_000_000_000, 0, (0, 0, 0, 0, 0), (), (), (), Hist(), Hist())
    assert unpack_rollup(pack_rollup(rollup)) == rollup.to_wire(packed=True)
    assert as_lists(unpack_rollup(pack_rollup(rollup))) == rollup.to_wire()


def test_a_count_beyond_32_bits_is_kept_exactly() -> None:
    big = Hist((3, 1279), (1, 2**40), 5.0, 1, 2)
    rollup = Rollup(7_000_000_000, 2**40 + 1, (2**40 + 1, 0, 0, 0, 0), (), (), (), big, Hist())
    blob = pack_rollup(rollup)
    assert blob[0] == PACK_PLAIN
    wire = unpack_rollup(blob)
    assert len(wire["d"][1]) == 16  # two 8-byte counts
    assert Rollup.from_wire(wire) == rollup
    assert as_lists(wire)["d"][:2] == [[3, 1279], [1, 2**40]]


@pytest.mark.parametrize("blob", [b"", b"\x07abc", b"\x01not zlib", b"\x01" + b"x\x9c\x03\x00"])
def test_damaged_or_foreign_bytes_are_a_protocol_error(blob: bytes) -> None:
    with pytest.raises(ProtocolError):
        unpack_rollup(blob)
