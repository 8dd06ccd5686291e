"""The package's layers: imports go one way (model <- experiment <- analysis <- viz <- cli)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
#: Each layer may import the layers before it, never one after it. ``sim.errors`` and
#: ``sim.safeio`` sit below every layer; the package's ``__init__`` is the facade.
ORDER = ("model", "experiment", "analysis", "viz", "cli")
BASE = {"sim.errors", "sim.safeio"}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "sim" and parts[1] in ORDER else None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "sim":  # from sim import x: x may be a layer
                found |= {f"sim.{a.name}" for a in node.names}
    return {m for m in found if m == "sim" or m.startswith("sim.")}


MODULES = sorted(p for p in SIM.rglob("*.py") if p.parent != SIM)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SIM)))
def test_imports_go_one_way(path):
    own = ORDER.index(path.relative_to(SIM).parts[0])
    bad = sorted(m for m in _imports(path) - BASE
                 if (lay := _layer(m)) is not None and ORDER.index(lay) > own)
    assert not bad, f"{path.relative_to(SIM)} imports a later layer: {bad}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SIM)))
def test_no_module_imports_the_package_facade(path):
    # ``from sim import simulate`` inside the package would pull in every layer
    facade = {m for m in _imports(path) if m == "sim"}
    names = [a.name for n in ast.walk(ast.parse(path.read_text()))
             if isinstance(n, ast.ImportFrom) and n.module == "sim" for a in n.names]
    assert not facade or set(names) <= {"__version__"}, (path, names)
