"""docs/FLEET.md documents every setting, under its own section, with its variable's form."""

from __future__ import annotations

import re
from pathlib import Path

from poolmon.core.config.schema import KEYS, SECTIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "FLEET.md"


def test_every_setting_is_in_the_reference() -> None:
    text = DOC.read_text()
    parts = re.split(r"^#### \[(\w+)\]", text, flags=re.MULTILINE)
    documented = {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    assert set(documented) == set(SECTIONS)
    for key in KEYS:
        assert f"| `{key.name}` |" in documented[key.section], key.dotted
    assert "POOLMON_<SECTION>_<KEY>" in text
