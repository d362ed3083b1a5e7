"""Packed rollups: exactly the wire dict back, whatever the batches were; damage is an error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_rollup_fold import random_batch

from poolmon.core.errors import ProtocolError
from poolmon.core.rollup import Hist, Rollup, RollupBuilder
from poolmon.core.rollup_pack import pack_rollup, unpack_rollup


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 3000))
def test_unpack_gives_back_the_exact_wire_form(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    builder = RollupBuilder()
    builder.add(random_batch(rng, n, ops=("a", "b", "c"), errs=("", "ValueError")))
    for rollup in builder.flush():
        wire = unpack_rollup(pack_rollup(rollup))
        assert wire == rollup.to_wire()
        assert Rollup.from_wire(wire) == rollup


def test_an_empty_second_round_trips() -> None:
    rollup = Rollup(5_000_000_000, 0, (0, 0, 0, 0, 0), (), (), (), Hist(), Hist())
    assert unpack_rollup(pack_rollup(rollup)) == rollup.to_wire()


@pytest.mark.parametrize("blob", [b"", b"\x07abc", b"\x01not zlib", b"\x01" + b"x\x9c\x03\x00"])
def test_damaged_or_foreign_bytes_are_a_protocol_error(blob: bytes) -> None:
    with pytest.raises(ProtocolError):
        unpack_rollup(blob)
