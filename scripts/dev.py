"""Set up poolmon in a local virtual environment, then run the demo, the tests or a benchmark.

Usage (from a fresh clone, with nothing but Python >= 3.11):

    python3 scripts/dev.py demo          # set up, then run `poolmon demo`
    python3 scripts/dev.py test          # set up, then lint, type-check and run the whole suite
    python3 scripts/dev.py bench SUITE   # set up, then `python -m poolmon.bench SUITE --json`

The environment lives in .venv/ and is rebuilt only when pyproject.toml changes, so the second
run starts at once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".poolmon-installed"


def ensure_env() -> None:
    """Create .venv and install poolmon with its dev extra when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may run on any python3
        sys.exit(f"poolmon needs Python >= 3.11; this is {sys.version.split()[0]}")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PY.exists() and STAMP.exists() and STAMP.read_text() == want:
        return
    if not PY.exists():
        print("poolmon: creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print("poolmon: installing poolmon[dev] into .venv ...", flush=True)
    subprocess.run(
        [
            str(PY),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            f"{ROOT}[dev]",
        ],
        check=True,
    )
    STAMP.write_text(want)


def run(args: list[str]) -> int:
    """Run one command inside the environment and return its exit code."""
    return subprocess.run(args, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    """Dispatch `demo`, `test` or `bench` after making sure the environment is ready."""
    if not argv or argv[0] not in {"demo", "test", "bench"}:
        print(__doc__)
        return 2
    ensure_env()
    what, rest = argv[0], argv[1:]
    if what == "demo":
        return run([str(BIN / "poolmon"), "demo", *rest])
    if what == "bench":
        return run([str(PY), "-m", "poolmon.bench", *rest])
    for step in (
        [str(PY), "-m", "ruff", "check", "poolmon", "tests", "scripts"],
        [str(PY), "-m", "mypy"],
    ):
        print(
            "$",
            " ".join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step)),
            flush=True,
        )
        code = run(step)
        if code:
            return code
    return run([str(PY), "-m", "pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
