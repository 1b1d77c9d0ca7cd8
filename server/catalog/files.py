"""Reading the shipped catalog's CSV files into validated rows."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from server.catalog.rows import CalibrationRow
from server.engine import Calibration

# The shipped catalog is package data (server/catalog/data/), so a wheel or a deploy carries it with the code.
DEFAULT_CATALOG_DIR = Path(str(files("server.catalog") / "data"))

RowT = TypeVar("RowT", bound=BaseModel)


class CatalogError(Exception):
    """A shipped or configured catalog file is missing or invalid."""


def read_rows(path: Path, row_model: type[RowT]) -> list[RowT]:
    """Every row of one CSV file, validated; the error names the file, line and column."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = []
            for line, record in enumerate(csv.DictReader(handle), start=2):
                try:
                    rows.append(row_model.model_validate(record))
                except ValidationError as exc:
                    first = exc.errors()[0]
                    column = ".".join(str(p) for p in first["loc"])
                    raise CatalogError(f"{path.name} line {line}, column {column!r}: {first['msg']}") from exc
            return rows
    except FileNotFoundError as exc:
        raise CatalogError(f"catalog file missing: {path}") from exc


def iter_model_files(catalog_dir: Path) -> Iterator[Path]:
    yield from sorted((catalog_dir / "models").glob("*.csv"))


def load_calibration(path: Path) -> Calibration:
    """The engine's fitted constants: scalar names are Calibration fields, `<kind>_gpu_factor.<gpu>` per GPU."""
    values: dict[str, float] = {}
    llm_gpu: dict[str, float] = {}
    diffusion_gpu: dict[str, float] = {}
    for row in read_rows(path, CalibrationRow):
        if row.name.startswith("llm_gpu_factor."):
            llm_gpu[row.name.split(".", 1)[1]] = row.value
        elif row.name.startswith("diffusion_gpu_factor."):
            diffusion_gpu[row.name.split(".", 1)[1]] = row.value
        else:
            values[row.name] = row.value
    try:
        return Calibration(**values, llm_gpu_factors=llm_gpu, diffusion_gpu_factors=diffusion_gpu)
    except TypeError as exc:
        raise CatalogError(f"{path.name}: {exc}") from exc
