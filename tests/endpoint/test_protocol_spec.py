"""docs/PROTOCOL.md's byte dumps are generated from the real encoder; this test keeps them so.

Regenerate after a deliberate change: `.venv/bin/python tests/endpoint/test_protocol_spec.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from poolmon.core.protocol import FRAME_TYPES, Decoder, encode
from poolmon.core.protocol.dump import dump, examples, markdown

SPEC = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"
BEGIN, END = "<!-- dumps:begin -->", "<!-- dumps:end -->"


def rendered(text: str) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{markdown()}{END}{tail}"


def test_spec_dumps_match_the_encoder() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert text == rendered(text), (
        "docs/PROTOCOL.md dumps are stale: regenerate with "
        ".venv/bin/python tests/endpoint/test_protocol_spec.py"
    )


def test_examples_cover_every_frame_type_and_round_trip() -> None:
    frames = [frame for _, frame in examples()]
    assert {type(f) for f in frames} == set(FRAME_TYPES)
    for frame in frames:
        assert Decoder().feed(encode(frame)) == [frame]


def test_dump_accounts_for_every_byte() -> None:
    for _, frame in examples():
        data = encode(frame)
        hex_digits = "".join(line[:48].replace(" ", "") for line in dump(frame).splitlines())
        assert hex_digits == data.hex()


if __name__ == "__main__":
    SPEC.write_text(rendered(SPEC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
