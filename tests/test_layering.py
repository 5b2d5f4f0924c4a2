"""Imports go downwards only (DESIGN.md): checked on the source, not by convention.

``_core`` and ``dimse`` do no I/O and know no pydicom; the codec never
imports services; services never import the association drivers; the
node (when it exists) uses only the public API.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dicomwire"

# Layers from the bottom up; a module may import its own layer and those below.
ORDER = ["_core", "dimse", "transport", "file_meta", "flat_codec", "events", "sop_class",
         "presentation", "services", "association", "ae", "cli"]
FORBIDDEN_IN_PURE = {"threading", "asyncio", "socket", "ssl", "selectors", "pydicom"}


def _layer(module: str) -> str:
    """``dicomwire.association.link`` -> ``association``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path) -> list[str]:
    """Absolute names of everything ``path`` imports, relative ones resolved."""
    module = "dicomwire." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    names = []
    tree = ast.parse(path.read_text())
    typing_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for child in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: no import at run time
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.append(target)
            names += [f"{target}.{alias.name}" for alias in node.names]
    return names


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parts[-2] != "__pycache__")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_downwards(path: Path) -> None:
    own = _layer("dicomwire." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    if own not in ORDER:
        return  # the package __init__ and top-level glue may import anything
    allowed = set(ORDER[: ORDER.index(own) + 1])
    for name in _imports(path):
        if not name.startswith("dicomwire."):
            continue
        layer = _layer(name)
        if layer == "":  # e.g. ``from dicomwire import IMPLEMENTATION_UID``: lazy glue
            continue
        assert layer in allowed or layer not in ORDER, f"{path.name} imports {name} (upwards)"


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if _layer("dicomwire." + p.relative_to(PACKAGE).parts[0]) in
     ("_core", "dimse")],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_core_and_dimse_do_no_io(path: Path) -> None:
    for name in _imports(path):
        root = name.split(".")[0]
        assert root not in FORBIDDEN_IN_PURE, f"{path.name} imports {name}"


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """Guard against a check that cannot fail: a known upward import is found."""
    names = _imports(PACKAGE / "association" / "association.py")
    assert "dicomwire.services.dispatch" in names or "dicomwire.services" in names
