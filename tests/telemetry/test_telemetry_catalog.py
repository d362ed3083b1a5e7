from __future__ import annotations

import re
import subprocess
import sys

from poolmon.core import catalog_entries as catalog
from poolmon.runtime.telemetry import docgen

TIME_WORDS = re.compile(r"(duration|wait|latency|time|uptime|lifetime|timeout|startup|elapsed)")


def test_events_md_is_generated_from_the_catalog() -> None:
    committed = docgen.EVENTS_MD.read_text(encoding="utf-8")
    assert committed == docgen.render(), (
        f"docs/EVENTS.md differs from the catalog; regenerate with: {docgen.REGENERATE}"
    )


def test_docgen_check_mode_detects_a_stale_file(tmp_path: object) -> None:
    from pathlib import Path

    stale = Path(str(tmp_path)) / "EVENTS.md"
    stale.write_text("old\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "poolmon.runtime.telemetry.docgen", "--check", "--path"]
    out = subprocess.run([*cmd, str(stale)], capture_output=True, text=True)
    assert out.returncode == 1
    assert docgen.REGENERATE in out.stderr
    assert docgen.main(["--path", str(stale)]) == 0
    assert docgen.main(["--check", "--path", str(stale)]) == 0


def test_every_constant_is_in_the_catalog_once() -> None:
    constants = {
        value
        for key, value in vars(catalog).items()
        if key.isupper() and isinstance(value, str) and value.startswith("poolmon.")
    }
    names = [spec.name for spec in catalog.CATALOG]
    assert len(names) == len(set(names))
    assert constants == set(names)
    assert catalog.BY_NAME.keys() == set(names)


def test_time_measurements_carry_ns_and_no_other_unit() -> None:
    for spec in catalog.CATALOG:
        for field in spec.measurements:
            assert not re.search(r"_(ms|us|s|sec|seconds|millis|micros)$", field), (
                f"{spec.name}.{field}: durations are nanoseconds, named _ns"
            )
            if TIME_WORDS.search(field):
                assert field.endswith("_ns"), f"{spec.name}.{field} is a time without _ns"


def test_every_event_has_pool_metadata_and_a_description() -> None:
    for spec in catalog.CATALOG:
        assert "pool" in spec.metadata, spec.name
        assert spec.description.endswith("."), spec.name
        assert spec.delivery in ("event", "batch", "periodic")
        assert spec.emitted_by in ("pool", "telemetry", "resources", "endpoint")
