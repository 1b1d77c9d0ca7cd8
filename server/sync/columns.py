"""The columns of the "Models", "GPUs", "Nodes" and "Datacenters" tabs, and how a wire dict becomes a row of cells.

A tab's header row is the wire field names, in the order below (stable: the Apps Script side and people's
lookups may rely on it). Each column reads one key of the entry dict:

- lists (a model's `aliases`) are joined with ", ";
- numbers stay numbers (written RAW, so Sheets stores a number, never the text of one), booleans stay booleans;
- a missing key or null is an empty cell; keys that are not a column are ignored.

Besides the spec's fields, a few sheet-only columns (marked below) show catalog facts the API does not return:
a model's active parameters and whether its parameter count is an estimate, and every row's `source`. The global
catalog fills them (`server.sync.entries.global_entries`); entries without them (an account's custom models) leave
those cells empty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server.catalog.store import DATACENTER_WIRE_FIELDS, GPU_WIRE_FIELDS, NODE_WIRE_FIELDS

Cell = str | int | float | bool

OWNERSHIP_COLUMNS = ("customer_id", "created_by", "created_at", "updated_at")

MODEL_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "family",
    "aliases",
    "hugging_face_path",
    "task",
    "datatype",
    "total_params_billions",
    "active_params_billions",  # sheet-only
    "params_estimated",  # sheet-only
    "number_of_experts",
    "params_per_expert_billions",
    "tensor_parallelism",
    "benchmark_model_id",
    "fine_tuned_from_model_id",
    "training_usage_energy_kwh",
    "training_usage_emissions_kgco2e",
    "training_usage_water_l",
    "training_embodied_emissions_kgco2e",
    "training_embodied_water_l",
    "estimated_use_life_days",
    "estimated_requests_per_day",
    "source",  # sheet-only
    *OWNERSHIP_COLUMNS,
)
GPU_COLUMNS: tuple[str, ...] = (*GPU_WIRE_FIELDS, "source", *OWNERSHIP_COLUMNS)  # source: sheet-only
NODE_COLUMNS: tuple[str, ...] = (*NODE_WIRE_FIELDS, "source", *OWNERSHIP_COLUMNS)
# A datacenter's `location` as two columns (lat, lng), then its source: sheet-only.
DATACENTER_COLUMNS: tuple[str, ...] = (*DATACENTER_WIRE_FIELDS, "lat", "lng", "source", *OWNERSHIP_COLUMNS)


@dataclass(frozen=True, slots=True)
class TabSpec:
    title: str
    columns: tuple[str, ...]


TABS: tuple[TabSpec, ...] = (
    TabSpec("Models", MODEL_COLUMNS),
    TabSpec("GPUs", GPU_COLUMNS),
    TabSpec("Nodes", NODE_COLUMNS),
    TabSpec("Datacenters", DATACENTER_COLUMNS),
)


def to_cell(value: Any) -> Cell:
    """One wire value as the cell Sheets should store (RAW input)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def table(columns: Sequence[str], entries: Sequence[Mapping[str, Any]]) -> list[list[Cell]]:
    """Header row plus one full-width row per entry, in the entries' order."""
    return [list(columns), *([to_cell(entry.get(name)) for name in columns] for entry in entries)]


def _comparable(cell: Any) -> tuple[str, Any]:
    if cell is None or cell == "":
        return ("", "")
    if isinstance(cell, bool):
        return ("b", cell)
    if isinstance(cell, int | float):
        return ("n", float(cell))
    return ("s", str(cell))


def normalise(rows: Sequence[Sequence[Any]]) -> list[list[tuple[str, Any]]]:
    """Values as Sheets reads them back (trailing empty cells and rows dropped), comparable with what we write.

    Numbers compare by value (Sheets answers 45 for a written 45.0) and never equal text or booleans.
    """
    out: list[list[tuple[str, Any]]] = []
    for row in rows:
        cells = [_comparable(cell) for cell in row]
        while cells and cells[-1] == ("", ""):
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out
