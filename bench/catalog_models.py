"""The catalog's ModelSpec of each model ML.ENERGY measured, shared by the fit and the accuracy bench.

`bench/derive_calibration.py` computes each diffusion configuration's denoiser FLOPs from these specs and
`bench/accuracy.py` runs the engine on the same specs, so the fit and the engine use one set of architecture
figures: the ones in `server/catalog/data/models/*.csv`, each with its source.

Reads the model files only (not `server/catalog/data/calibration.csv`, which the fit writes).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from server.catalog.files import DEFAULT_CATALOG_DIR, iter_model_files, read_rows  # noqa: E402
from server.catalog.names import norm  # noqa: E402
from server.catalog.rows import ModelRow  # noqa: E402
from server.catalog.store import model_spec  # noqa: E402
from server.engine.specs import ModelSpec  # noqa: E402


class UnknownModel(Exception):
    """An ML.ENERGY model id that no catalog row names."""


def catalog_rows(catalog_dir: Path = DEFAULT_CATALOG_DIR) -> list[ModelRow]:
    return [row for path in iter_model_files(catalog_dir) for row in read_rows(path, ModelRow)]


def row_for(model_id: str, rows: list[ModelRow]) -> ModelRow:
    """The catalog row whose Hugging Face path (else id, alias or other name) is ML.ENERGY's `model_id`."""
    key = norm(model_id)
    for row in rows:
        if row.hugging_face_path and norm(row.hugging_face_path) == key:
            return row
    for row in rows:
        if key in {norm(name) for name in (row.id, *row.aliases, *row.other_names)}:
            return row
    raise UnknownModel(
        f"ML.ENERGY model {model_id!r} is not in server/catalog/data/models/*.csv (hugging_face_path, id, aliases or "
        "other_names): add its row with the denoiser architecture columns"
    )


def specs_for(model_ids: set[str], catalog_dir: Path = DEFAULT_CATALOG_DIR) -> dict[str, ModelSpec]:
    """ML.ENERGY model id -> the catalog's ModelSpec (the one the server builds for that row)."""
    rows = catalog_rows(catalog_dir)
    return {model_id: model_spec(row_for(model_id, rows)) for model_id in sorted(model_ids)}
