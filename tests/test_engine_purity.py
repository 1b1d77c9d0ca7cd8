"""House rule 1: the engine imports nothing but the standard library's math and itself."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "server" / "engine"
ALLOWED_STDLIB = {"__future__", "math", "dataclasses", "enum", "typing"}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_engine_imports_only_itself_and_pure_stdlib() -> None:
    files = sorted(ENGINE.glob("*.py"))
    assert len(files) >= 4
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            assert module.startswith("server.engine") or top in ALLOWED_STDLIB, f"{path.name} imports {module}"
