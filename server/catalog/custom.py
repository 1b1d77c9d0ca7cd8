"""Entries saved through the API (a customer's own, or an admin's global ones) as catalog entries.

An entry is stored as the fields the spec names (`data`) plus who owns it (`SavedEntry`). Here it becomes the
same `CatalogModel` / `CatalogGpu` / `CatalogNode` the shipped catalog holds, so estimates treat both alike.
Fields the spec's create requests do not carry are filled from the model an entry is fine-tuned from (or
benchmarked as), or from the documented assumptions below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.catalog.rows import DatacenterRow, GpuRow, ModelRow, NodeRow, Row
from server.catalog.store import (
    GPU_WIRE_FIELDS,
    MODEL_WIRE_FIELDS,
    NODE_WIRE_FIELDS,
    Catalog,
    CatalogDatacenter,
    CatalogGpu,
    CatalogModel,
    CatalogNode,
    datacenter_wire,
    gpu_spec,
    model_spec,
    training_spec,
)
from server.catalog.tasks import TASK_KINDS
from server.engine import TaskKind

# Assumptions for a saved GPU that gives only the spec's fields (all from server/catalog/data/gpus.csv conventions):
CUSTOM_GPU_MEMORY_GB = 80.0  # an H100-class part, the most common serving GPU in the shipped catalog
CUSTOM_GPU_IDLE_FRACTION = 0.12  # idle draw as a share of TDP, the shipped catalog's assumption (gpus.csv)
H200_MEMORY_BANDWIDTH_TBPS = 4.8  # NVIDIA H200 datasheet; performance_ratio_to_h200 = bandwidth / 4.8 TB/s
H200_PEAK_TFLOPS_BF16 = 989.5  # NVIDIA H200 datasheet, dense BF16 (compute assumed to scale like bandwidth)
DIFFUSION_DEFAULT_STEPS = 30  # a saved image/video model that names no steps: a common sampler default
DIFFUSION_KINDS = (TaskKind.IMAGE, TaskKind.VIDEO)
EXTRA_MODEL_WIRE_FIELDS = ("benchmark_model_id", "fine_tuned_from_model_id", "tensor_parallelism")
# Copied from the base model when a saved model leaves them out.
INHERITED_MODEL_FIELDS = (
    "task",
    "datatype",
    "total_params_billions",
    "active_params_billions",
    "number_of_experts",
    "params_per_expert_billions",
    "default_service",
    "default_steps",
    "default_resolution",
)


@dataclass(frozen=True, slots=True)
class SavedEntry:
    kind: str  # model | gpu | node | datacenter
    entry_id: str
    customer_id: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    data: dict[str, Any] | None  # None: an admin's deletion of the shipped entry with this id


class EntryError(Exception):
    """A saved entry cannot be used as it stands; the message names the field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _source(entry: SavedEntry, data: dict[str, Any]) -> dict[str, str]:
    """Where the entry's figures come from: who saved it, after the shipped source it changes, if any."""
    owner = "global" if entry.customer_id == 0 else f"customer {entry.customer_id}"
    saved = f"saved through the API by {entry.created_by} ({owner})"
    source = f"{data['source']} | changed: {saved}" if data.get("source") else saved
    return {"source": source, "as_of": entry.updated_at.date().isoformat()}


def _row_fields(data: dict[str, Any], row_type: type[Row]) -> dict[str, Any]:
    """The saved fields that are columns of `row_type` (id, source and as_of are set by this module)."""
    own = {"id", "source", "as_of"}
    return {k: v for k, v in data.items() if k in row_type.model_fields and k not in own and v is not None}


def _wire(entry: SavedEntry, data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    wire = {name: data[name] for name in fields if data.get(name) is not None}
    return wire | {
        "customer_id": entry.customer_id,
        "created_at": _stamp(entry.created_at),
        "updated_at": _stamp(entry.updated_at),
        "created_by": entry.created_by,
    }


def base_model(data: dict[str, Any], catalog: Catalog) -> CatalogModel | None:
    for field in ("fine_tuned_from_model_id", "benchmark_model_id"):
        if data.get(field):
            found = catalog.find_model(data[field])
            if found is None:
                raise EntryError(f"{field}: unknown model '{data[field]}'", field)
            return found
    return None


def model_entry(entry: SavedEntry, catalog: Catalog) -> CatalogModel:
    """A saved model; `catalog` is where its base model (fine-tuned from / benchmarked as) is looked up."""
    data = dict(entry.data or {})
    base = base_model(data, catalog)
    fields: dict[str, Any] = {"name": entry.entry_id, "family": "custom", "provider": "custom"}
    if base is not None:
        fields |= {"family": base.row.family, "provider": base.row.provider}
        fields |= {name: getattr(base.row, name) for name in INHERITED_MODEL_FIELDS}
    fields |= _row_fields(data, ModelRow)
    if not fields.get("total_params_billions"):
        raise EntryError(
            "total_params_billions: required unless fine_tuned_from_model_id or benchmark_model_id names a model",
            "total_params_billions",
        )
    if fields.get("default_steps") is None and TASK_KINDS.get(fields.get("task") or "") in DIFFUSION_KINDS:
        fields["default_steps"] = DIFFUSION_DEFAULT_STEPS
    row = ModelRow(id=entry.entry_id, **fields, **_source(entry, data))
    wire_data = row.model_dump() | {name: data.get(name) for name in EXTRA_MODEL_WIRE_FIELDS}
    wire = _wire(entry, wire_data, (*MODEL_WIRE_FIELDS, *EXTRA_MODEL_WIRE_FIELDS))
    wire["aliases"] = list(row.aliases)
    return CatalogModel(row, model_spec(row), training_spec(row), wire)


def gpu_entry(entry: SavedEntry) -> CatalogGpu:
    data = dict(entry.data or {})
    ratio = float(data["performance_ratio_to_h200"])
    max_power = float(data["max_power_w"])
    assumed = {
        "vendor": "custom",
        "memory_gb": CUSTOM_GPU_MEMORY_GB,
        "idle_power_w": max_power * CUSTOM_GPU_IDLE_FRACTION,
        "peak_tflops_bf16": ratio * H200_PEAK_TFLOPS_BF16,
        "memory_bandwidth_tbps": ratio * H200_MEMORY_BANDWIDTH_TBPS,
    }
    row = GpuRow(id=entry.entry_id, **(assumed | _row_fields(data, GpuRow)), **_source(entry, data))
    return CatalogGpu(row, gpu_spec(row), _wire(entry, row.model_dump(), GPU_WIRE_FIELDS))


def node_entry(entry: SavedEntry) -> CatalogNode:
    data = dict(entry.data or {})
    row = NodeRow(id=entry.entry_id, **_row_fields(data, NodeRow), **_source(entry, data))
    return CatalogNode(row, _wire(entry, row.model_dump(), NODE_WIRE_FIELDS))


def datacenter_entry(entry: SavedEntry) -> CatalogDatacenter:
    """A saved datacenter: the spec's fields (its `location` as lat/lng) and ours (country, region, WUE, cloud)."""
    data = dict(entry.data or {})
    location = data.pop("location", None) or {}
    fields = _row_fields(data, DatacenterRow) | {k: location[k] for k in ("lat", "lng") if k in location}
    row = DatacenterRow(id=entry.entry_id, **fields, **_source(entry, data))
    return CatalogDatacenter(row, _wire(entry, {}, ()) | datacenter_wire(row))


def apply_entries(base: Catalog, entries: list[SavedEntry]) -> Catalog:
    """`base` with these saved entries laid over it: GPUs first, then models and nodes that may use them.

    An entry that no longer fits (its GPU or base model was deleted since) is left out rather than failing
    every request of its owner; the API reports such problems when the entry is saved.
    """
    removed = {(e.kind, e.entry_id) for e in entries if e.data is None}
    gpus = [gpu_entry(e) for e in entries if e.kind == "gpu" and e.data is not None]
    with_gpus = base.with_entries(gpus=gpus, removed=removed)
    models: list[CatalogModel] = []
    for e in entries:
        if e.kind == "model" and e.data is not None:
            try:
                models.append(model_entry(e, with_gpus))
            except EntryError:
                continue
    nodes = [node_entry(e) for e in entries if e.kind == "node" and e.data is not None]
    datacenters = [datacenter_entry(e) for e in entries if e.kind == "datacenter" and e.data is not None]
    return with_gpus.with_entries(models=models, nodes=nodes, datacenters=datacenters)
