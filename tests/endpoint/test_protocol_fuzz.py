"""Fuzz the decoder: whatever bytes arrive, it returns frames or raises FrameError, nothing else.

The short run is part of the suite; the long run (>= 100k inputs) is marked slow:
`.venv/bin/pytest tests/endpoint/test_protocol_fuzz.py -m slow -p no:randomly`.
"""

from __future__ import annotations

import struct

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poolmon.core.events import Event, TaskBatch
from poolmon.core.protocol import FRAME_TYPES, Batch, Command, Decoder, FrameError, Hello, encode

SEEDS = [
    encode(Hello(client="c")),
    encode(Command(3, "resize", {"size": 4})),
    encode(
        Batch(
            0,
            3,
            ((0, Event("a.b", 1, {"x": 1.5}, {"k": "v"})),),
            (
                (
                    2,
                    TaskBatch.from_rows(
                        [(1, 0, "f", 1, 2, 3, 0, ""), (2, 1, "g", 1, 2, 3, 1, "E")]
                    ),
                ),
            ),
        )
    ),
]

msgpack_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=20,
)


def _framed(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


structured = st.builds(
    lambda t, fields: _framed(msgpack.packb([t, fields], use_bin_type=True)),
    st.sampled_from(sorted(FRAME_TYPES.values())) | st.integers(-3, 300),
    st.dictionaries(
        st.sampled_from(
            [
                "seq",
                "end",
                "events",
                "tasks",
                "id",
                "name",
                "args",
                "magic",
                "version",
                "ok",
                "result",
                "code",
                "reason",
                "live_seq",
                "ts_ns",
                "rollups",
                "resume_seq",
            ]
        ),
        msgpack_values,
        max_size=6,
    ),
)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]) if draw(st.booleans()) else bytes(data)


inputs = st.binary(max_size=200) | structured | mutated()


def check(data: bytes, chunk: int) -> None:
    dec = Decoder(max_frame_size=4096)
    try:
        for i in range(0, len(data), chunk):
            for frame in dec.feed(data[i : i + chunk]):
                assert type(frame) in FRAME_TYPES
                assert dec.feed(b"") == []
                encode(frame)  # anything decoded can be encoded again
        dec.eof()
    except FrameError as exc:
        assert exc.code in {"protocol", "oversized"}  # noqa: PT017
        with pytest.raises(FrameError):
            dec.feed(b"\x00")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs, st.integers(1, 64))
def test_decoder_fuzz_short(data: bytes, chunk: int) -> None:
    check(data, chunk)


@pytest.mark.slow
@settings(max_examples=100_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(inputs, st.integers(1, 64))
def test_decoder_fuzz_long(data: bytes, chunk: int) -> None:
    check(data, chunk)
