"""The dependency rules of the design, checked on every import (also those inside functions):
`rules` imports nothing of Entitle but `insz`; `sources` and `registry` never import `web` or
`decide`; `web` reaches facts only through `decide` (never `sources` or `registry`); the product
never imports `registry` — it talks to the simulator over HTTP, as it would to MAGDA."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "entitle"

# package -> packages of Entitle it must not import
FORBIDDEN = {
    "rules": {"sources", "registry", "decide", "store", "web", "facts", "demo"},
    "sources": {"web", "decide", "registry", "store"},
    "registry": {"web", "decide", "store"},
    "web": {"sources", "registry"},
    "store": {"web", "registry"},
    "decide": {"web", "registry"},
}
# places where the rule is knowingly bent, each with its reason
ALLOWED: set[tuple[str, str]] = set()


def imported_packages(path: Path) -> set[str]:
    """The first-level Entitle packages a module imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "entitle" and len(parts) > 1:
                found.add(parts[1].removesuffix(".py"))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_follow_the_design(package: str) -> None:
    broken = []
    for path in sorted((SRC / package).rglob("*.py")):
        where = str(path.relative_to(SRC))
        for target in imported_packages(path) & FORBIDDEN[package]:
            if (where, target) not in ALLOWED:
                broken.append(f"{where} imports entitle.{target}")
    assert broken == []


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from entitle.registry.synth import write_city\n")
    assert imported_packages(module) == {"registry"}
