"""Imports go one way, downward (DESIGN.md, "Layers"). This reads every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "elanus"

# What each part of the package may import from elanus itself.
SHARED = {"elanus.errors"}
LOWER = {"schema", "storage", "expr", "index", "text"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "schema": {"schema"},
    "storage": {"schema", "storage"},
    "expr": {"schema", "expr"},
    "index": {"schema", "index"},
    "text": {"schema", "text"},
    "security": {"schema", "security"},
    "engine": LOWER | {"engine", "security"},
    "client": {"schema", "engine", "client", "security"},
    "server": {"schema", "engine", "server", "config", "security"},
    "cli": {"schema", "engine", "server", "config", "cli"},
    "config": {"config"},
}


def _part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ""


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if path.name != "__init__.py":
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "elanus":
                # `from elanus import expr` imports the submodule elanus.expr
                found.extend((node.lineno, f"elanus.{alias.name}") for alias in node.names)
            else:
                found.append((node.lineno, target))
    return [(line, name) for line, name in found if name == "elanus" or name.startswith("elanus.")]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_go_one_way(path: Path) -> None:
    rel = path.relative_to(PACKAGE)
    part = rel.parts[0].removesuffix(".py") if rel.parts else ""
    if part == "__init__" or part == "__main__":
        return  # the package root re-exports the public surface
    allowed = ALLOWED.get(part)
    assert allowed is not None, f"{rel}: part {part!r} has no place in the layering; add it"
    for line, name in _imports(path):
        if name in SHARED:
            continue
        target = _part(name)
        assert target in allowed, (
            f"{rel}:{line} imports {name}: {part} may import only {sorted(allowed)}"
        )


def test_every_layer_exists() -> None:
    for part in ("schema", "storage", "expr", "index", "text", "engine", "client", "server"):
        assert (PACKAGE / part / "__init__.py").exists(), part
