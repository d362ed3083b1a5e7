"""The house's three layers, enforced: engines <- runtime <- UI, imports pointing down only.

Every import statement in the package (including ones inside functions) is checked, so a lazy
import cannot sneak a dependency past the rule. A second test imports the engines in a fresh
interpreter and checks that no UI or IO library was loaded as a side effect.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "poolmon"

UI_LIBS = {"textual", "rich", "plotext", "textual_plotext"}
IO_LIBS = {
    "asyncio",
    "socket",
    "selectors",
    "threading",
    "multiprocessing",
    "subprocess",
    "concurrent",
    "psutil",
    "signal",
    "shutil",
    "tempfile",
    "urllib",
    "http",
    "smtplib",
}


def layer_of(module: str) -> str:
    """Classify a poolmon module name into core, runtime, ui or tool."""
    parts = module.split(".")
    second = parts[1] if len(parts) > 1 else ""
    if second == "core":
        return "core"
    if second in {"app", "screens", "widgets"}:
        return "ui"
    if second in {"cli", "bench", "__main__"}:
        return "tool"  # entry points may wire any layer together
    return "runtime"


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        found.append((name, path))
    return found


def imports_of(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def violations(module: str, imported: set[str]) -> list[str]:
    layer = layer_of(module)
    bad = []
    for name in sorted(imported):
        top = name.split(".")[0]
        if top == "poolmon":
            if name == "poolmon":
                continue
            target = layer_of(name)
            if layer == "core" and target != "core":
                bad.append(f"{module} (core) imports {name} ({target})")
            if layer == "runtime" and target in {"ui", "tool"}:
                bad.append(f"{module} (runtime) imports {name} ({target})")
            if module.startswith(("poolmon.widgets", "poolmon.screens")) and target == "runtime":
                bad.append(f"{module} (widget/screen) imports {name}: widgets read snapshots only")
        elif layer == "core" and (top in UI_LIBS or top in IO_LIBS):
            bad.append(f"{module} (core) imports {name}: engines do no IO and no UI")
        elif layer == "core" and top == "time" and module != "poolmon.core.clock":
            bad.append(f"{module} (core) imports time: take a Clock instead")
        elif layer == "runtime" and top in UI_LIBS:
            bad.append(f"{module} (runtime) imports {name}: only the UI layer may")
    return bad


def test_layers_import_downwards_only() -> None:
    problems = []
    for module, path in modules():
        problems.extend(violations(module, imports_of(module, path)))
    assert not problems, "\n".join(problems)


def test_checker_catches_a_violation() -> None:
    assert violations("poolmon.core.x", {"textual.app"})
    assert violations("poolmon.core.x", {"poolmon.runtime.pool"})
    assert violations("poolmon.runtime.x", {"poolmon.widgets.worker_table"})
    assert violations("poolmon.widgets.x", {"poolmon.runtime.client"})
    assert not violations("poolmon.widgets.x", {"poolmon.core.snapshot"})


@pytest.mark.parametrize("package", ["poolmon.core", "poolmon.runtime"])
def test_importing_lower_layers_loads_no_ui(package: str) -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "loaded = sorted({n.split('.')[0] for n in sys.modules} & "
        f"set({sorted(UI_LIBS)!r}))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{package} loaded UI libraries: {out.stdout.strip()}"
