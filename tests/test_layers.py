"""The layers of `server/` (DESIGN.md): each module imports only from its own layer or those below it.

    foundation:  server.engine (pure: tests/test_engine_purity.py), server.schemas (wire models, pydantic only),
                 server.logs; none of them imports another layer
    catalog:     server.catalog (shipped data, indexes, each account's entries laid over them)
    pipeline:    server.pipeline (resolve, estimate, metrics, text to fields, domain errors)
    domain:      server.accounts, server.db, server.sheets, server.batch, server.sync, and server.settings (the
                 typed environment: read by the domain's queue and limits; it names the shipped catalog's folder)
    services:    server.services (settings, database, catalog views, queue; no Flask)
    api:         server.api, server.errors (maps domain errors to HTTP), and the Flask glue that lives beside its
                 domain: server.accounts.auth (who calls), server.accounts.limits (rate limits)
    app:         server.app, and the processes: server.__main__, server.batch.worker, server.*.cli

An import of a higher layer is an error, said as `module -> imported (layer -> higher layer)`. Imports under
`if TYPE_CHECKING:` count too: they are how a reader learns what a module depends on.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1] / "server"
LAYERS = ("foundation", "catalog", "pipeline", "domain", "services", "api", "app")
# Most specific first: a module belongs to the first prefix it starts with.
PLACES = (
    ("server.accounts.auth", "api"),
    ("server.accounts.limits", "api"),
    ("server.accounts.cli", "app"),
    ("server.sync.cli", "app"),
    ("server.batch.worker", "app"),
    ("server.__main__", "app"),
    ("server.app", "app"),
    ("server.api", "api"),
    ("server.errors", "api"),
    ("server.services", "services"),
    ("server.settings", "domain"),
    ("server.accounts", "domain"),
    ("server.db", "domain"),
    ("server.sheets", "domain"),
    ("server.batch", "domain"),
    ("server.sync", "domain"),
    ("server.pipeline", "pipeline"),
    ("server.catalog", "catalog"),
    ("server.engine", "foundation"),
    ("server.schemas", "foundation"),
    ("server.logs", "foundation"),
    ("server", "foundation"),  # the package's own __init__
)
# The foundation's parts are independent of each other.
FOUNDATION_PARTS = ("server.engine", "server.schemas", "server.logs")


def layer_of(module: str) -> str:
    for prefix, layer in PLACES:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    raise AssertionError(f"{module} has no layer: place it in tests/test_layers.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(SERVER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def server_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("server"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("server") and not node.level:
            found.add(node.module)
    return found


def upward_imports() -> list[str]:
    problems = []
    for path in sorted(SERVER.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic's scripts: run by the database layer, importing only its tables
        module = module_name(path)
        mine = layer_of(module)
        for imported in sorted(server_imports(path)):
            theirs = layer_of(imported)
            if LAYERS.index(theirs) > LAYERS.index(mine):
                problems.append(f"{module} -> {imported} ({mine} -> {theirs})")
            elif mine == theirs == "foundation":
                own = next((part for part in FOUNDATION_PARTS if module.startswith(part)), module)
                other = next((part for part in FOUNDATION_PARTS if imported.startswith(part)), imported)
                if own != other and own != "server":
                    problems.append(f"{module} -> {imported} (foundation parts are independent)")
    return problems


def test_every_module_has_a_layer() -> None:
    modules = [module_name(path) for path in SERVER.rglob("*.py") if "migrations" not in path.parts]
    assert len(modules) > 60
    for module in modules:
        layer_of(module)


def test_no_module_imports_a_layer_above_its_own() -> None:
    problems = upward_imports()
    assert not problems, "upward imports:\n" + "\n".join(problems)


def test_domain_code_raises_no_http_errors() -> None:
    """Only the api layer turns domain errors into HTTP ones (`server.errors`)."""
    for path in sorted(SERVER.rglob("*.py")):
        module = module_name(path)
        if layer_of(module) in ("foundation", "catalog", "pipeline", "domain", "services"):
            assert "server.errors" not in server_imports(path), module
