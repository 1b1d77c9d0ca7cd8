"""The methodology version: one short string for the engine's formulas and the shipped catalog's figures.

It is a digest of their content, never a number typed by hand: every catalog table, and the source of everything
that turns a request into a number (the engine's formulas, the catalog's defaults, the pipeline's resolution), so
changing any figure or formula changes it. Answers carry it so that a cached result
(the Sheets add-on's, a batch task's) can say which methodology made it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SERVER_DIR = Path(__file__).resolve().parents[1]
SOURCE_PACKAGES = ("engine", "catalog", "pipeline")
VERSION_CHARS = 12  # 48 bits of SHA-256: enough to tell releases and catalog edits apart


def _digest_tree(digest: hashlib._Hash, root: Path, pattern: str, label: str) -> None:
    for path in sorted(p for p in root.rglob(pattern) if p.is_file()):
        relative = path.relative_to(root).as_posix()
        digest.update(f"{label}/{relative}\0".encode())
        digest.update(path.read_bytes())
        digest.update(b"\0")


def methodology_version(catalog_dir: Path) -> str:
    """The version of the estimates made with the catalog in `catalog_dir` by this engine."""
    digest = hashlib.sha256()
    _digest_tree(digest, catalog_dir, "*.csv", "catalog")
    for package in SOURCE_PACKAGES:
        _digest_tree(digest, SERVER_DIR / package, "*.py", package)
    return digest.hexdigest()[:VERSION_CHARS]
