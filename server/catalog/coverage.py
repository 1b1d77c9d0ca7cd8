"""What a reference list of model names has that the catalog does not: `python -m server catalog-coverage`.

The reference is EcoLogits' model repository (`ecologits/data/models.json`, when the `ecologits` package is
installed: it is in the `dev` extra) or a CSV of names (`provider,name` columns, or `name` alone). A name is
covered when the catalog resolves it, by the same lookup and name rules an estimate uses, both as
`provider:name` and as the bare name.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from server.catalog.files import CatalogError
from server.catalog.store import Catalog

ECOLOGITS_REPOSITORY = "EcoLogits model repository (ecologits/data/models.json)"


@dataclass(frozen=True, slots=True)
class Reference:
    provider: str
    name: str

    @property
    def qualified(self) -> str:
        return f"{self.provider}:{self.name}" if self.provider else self.name


@dataclass(frozen=True, slots=True)
class Coverage:
    references: list[Reference]
    missing_qualified: list[Reference]
    missing_bare: list[Reference]

    def share(self, missing: list[Reference]) -> float:
        return 1.0 - len(missing) / len(self.references) if self.references else 1.0


def ecologits_models_json() -> Path | None:
    """The installed EcoLogits' model repository, without importing the package (None when not installed)."""
    spec = importlib.util.find_spec("ecologits")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "data" / "models.json"
        if path.is_file():
            return path
    return None


def ecologits_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ecologits")
    except PackageNotFoundError:
        return None


def read_ecologits(path: Path) -> list[Reference]:
    """Every (provider, name) of the repository: its models and its aliases."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = [*data["models"], *data.get("aliases", [])]
        found = [Reference(str(entry["provider"]), str(entry["name"])) for entry in entries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"{path}: not an EcoLogits model repository ({exc})") from exc
    return list(dict.fromkeys(found))


def read_csv(path: Path) -> list[Reference]:
    """A CSV with a `name` column and optionally a `provider` column (header row required)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "name" not in reader.fieldnames:
                raise CatalogError(f"{path}: needs a header row with a 'name' column (and optionally 'provider')")
            found = [
                Reference((row.get("provider") or "").strip(), (row.get("name") or "").strip())
                for row in reader
                if (row.get("name") or "").strip()
            ]
    except OSError as exc:
        raise CatalogError(f"{path}: {exc.strerror or exc}") from exc
    return list(dict.fromkeys(found))


def coverage(catalog: Catalog, references: list[Reference]) -> Coverage:
    return Coverage(
        references,
        [ref for ref in references if catalog.find_model(ref.qualified) is None],
        [ref for ref in references if catalog.find_model(ref.name) is None],
    )


def report(result: Coverage, reference_label: str, catalog_models: int) -> list[str]:
    """Lines to print: every reference name the catalog misses, then the shares."""
    lines = [f"reference: {reference_label}: {len(result.references)} names"]
    bare = set(result.missing_bare)
    qualified = set(result.missing_qualified)
    missing = [ref for ref in result.references if ref in bare or ref in qualified]
    for ref in sorted(missing, key=lambda r: (r.provider, r.name)):
        how = "missing" if ref in bare and ref in qualified else ("bare name" if ref in bare else "provider:name")
        lines.append(f"{ref.provider or '-'}\t{ref.name}\t{how}")
    lines.append(
        f"covered: {result.share(result.missing_qualified):.1%} as provider:name, "
        f"{result.share(result.missing_bare):.1%} as the bare name; "
        f"{len(missing)} names to add to a catalog of {catalog_models} models"
    )
    return lines
