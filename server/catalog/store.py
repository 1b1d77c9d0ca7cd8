"""The global catalog: loaded once per process from catalog/ into immutable indexes."""

from __future__ import annotations

import bisect
import copy
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from server.catalog.files import CatalogError, iter_model_files, load_calibration, read_rows
from server.catalog.names import close_matches, derived_spellings, family_key, norm
from server.catalog.rows import (
    CloudRegionRow,
    CloudRow,
    DatacenterRow,
    GpuRow,
    GridIntensityRow,
    GridWaterRow,
    ManagedServiceRow,
    ModelRow,
    NodeRow,
)
from server.catalog.version import methodology_version
from server.engine import Calibration, GpuSpec, ModelSpec, TrainingSpec
from server.engine.constants import (
    BYTES_PER_PARAM,
    DEFAULT_BYTES_PER_PARAM,
    DEFAULT_GUIDANCE_PASSES,
    DEFAULT_PX_PER_LATENT_TOKEN,
    DEFAULT_TEMPORAL_COMPRESSION,
)
from server.schemas.impact import image_dimensions

WORLD = "ZZ"  # ISO 3166 user-assigned code: our world-average grid row
CATALOG_CUSTOMER_ID = 0
CATALOG_CREATED_BY = "catalog"
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}  # EU/common spellings of ISO codes


def as_of_datetime(as_of: str) -> datetime:
    parts = [int(p) for p in as_of.split("-")] + [1, 1]
    return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CatalogModel:
    row: ModelRow
    spec: ModelSpec
    training: TrainingSpec
    wire: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CatalogGpu:
    row: GpuRow
    spec: GpuSpec
    wire: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CatalogNode:
    row: NodeRow
    wire: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CatalogDatacenter:
    row: DatacenterRow
    wire: dict[str, Any]


# The spec's `Datacenter` fields a row shows (besides location, customer_id and the stamps), then ours.
DATACENTER_WIRE_FIELDS = (
    "id",
    "name",
    "description",
    "embodied_water_l",
    "embodied_emissions_kgco2e",
    "pue",
    "gco2e_per_kwh",
    "locked",
    "country",
    "region_code",
    "wue_l_per_kwh",
    "cloud_id",
    "cloud_region",
    "it_capacity_mw",
    "use_life_years",
    "average_load",
)


def datacenter_wire(row: DatacenterRow) -> dict[str, Any]:
    wire = {name: getattr(row, name) for name in DATACENTER_WIRE_FIELDS if getattr(row, name) is not None}
    if row.lat is not None and row.lng is not None:
        wire["location"] = {"lat": row.lat, "lng": row.lng}
    return wire


def shipped_datacenters(regions: Iterable[CloudRegionRow], clouds: dict[str, CloudRow]) -> list[DatacenterRow]:
    """The sites behind the catalog's cloud regions, one per region (`aws-us-east-1`): the region's published PUE
    where the provider gives one, else its fleet's; the fleet's WUE; the provider's own grid figure for the
    region where it publishes one, else (blank) the grid of the region's place. Each row cites both rows' sources."""
    out = []
    for region in regions:
        cloud = clouds.get(region.cloud_id)
        if cloud is None:
            continue
        place = f" ({region.city})" if region.city else ""
        out.append(
            DatacenterRow(
                id=f"{region.cloud_id}-{region.region}",
                name=f"{cloud.name} {region.region}{place}"[:100],
                description=f"the data centres of {cloud.name}'s {region.region} region",
                pue=region.pue or cloud.pue,
                wue_l_per_kwh=cloud.wue_l_per_kwh,
                gco2e_per_kwh=region.gco2e_per_kwh,
                country=region.country,
                region_code=region.region_code,
                cloud_id=region.cloud_id,
                cloud_region=region.region,
                locked=True,
                source=f"region: {region.source} | fleet PUE and WUE: {cloud.source}",
                as_of=max(region.as_of, cloud.as_of),
            )
        )
    return out


def model_spec(row: ModelRow) -> ModelSpec:
    width, height = 1024, 1024
    if row.default_resolution:
        width, height = image_dimensions(row.default_resolution)
    # A blank diffusion architecture cell takes the engine's documented default (server/engine/constants.py).
    return ModelSpec(
        total_params_b=row.total_params_billions,
        active_params_b=row.active_params_billions or row.total_params_billions,
        bytes_per_param=BYTES_PER_PARAM.get(row.datatype or "", DEFAULT_BYTES_PER_PARAM),
        default_steps=row.default_steps or 30,
        default_width_px=width,
        default_height_px=height,
        denoiser_layers=row.denoiser_layers,
        hidden_size=row.hidden_size,
        px_per_latent_token=row.px_per_latent_token or DEFAULT_PX_PER_LATENT_TOKEN,
        temporal_compression=row.temporal_compression or DEFAULT_TEMPORAL_COMPRESSION,
        guidance_passes=row.guidance_passes or DEFAULT_GUIDANCE_PASSES,
        quadratic_attention=row.quadratic_attention is not False,
    )


def training_spec(row: ModelRow) -> TrainingSpec:
    days, per_day = row.estimated_use_life_days, row.estimated_requests_per_day
    lifetime = days * per_day if days and per_day else 0.0
    return TrainingSpec(
        usage_energy_kwh=row.training_usage_energy_kwh or 0.0,
        usage_emissions_kgco2e=row.training_usage_emissions_kgco2e or 0.0,
        usage_water_l=row.training_usage_water_l or 0.0,
        embodied_emissions_kgco2e=row.training_embodied_emissions_kgco2e or 0.0,
        embodied_water_l=row.training_embodied_water_l or 0.0,
        lifetime_requests=lifetime,
    )


MODEL_WIRE_FIELDS = (
    "id",
    "aliases",
    "name",
    "family",
    "hugging_face_path",
    "total_params_billions",
    "number_of_experts",
    "params_per_expert_billions",
    "datatype",
    "task",
    "training_usage_energy_kwh",
    "training_usage_emissions_kgco2e",
    "training_usage_water_l",
    "training_embodied_emissions_kgco2e",
    "training_embodied_water_l",
    "estimated_use_life_days",
    "estimated_requests_per_day",
)
GPU_WIRE_FIELDS = (
    "id",
    "name",
    "max_power_w",
    "embodied_emissions_kgco2e",
    "embodied_water_mlh2o",
    "performance_ratio_to_h200",
    "ols_coefficient_gpu_count",
    "ols_intercept",
)
NODE_WIRE_FIELDS = (
    "id",
    "cloud_id",
    "cloud_instance_id",
    "managed_service_id",
    "gpu_id",
    "gpu_count",
    "cpu_count",
    "idle_power_w_ex_gpu",
    "average_utilization_rate",
    "embodied_emissions_kgco2e_ex_gpu",
    "embodied_water_l_ex_gpu",
    "use_life_years",
)


def _catalog_wire(row: ModelRow | GpuRow | NodeRow | DatacenterRow, fields: tuple[str, ...]) -> dict[str, Any]:
    """A global entry as the spec shows it: its set fields, owned by the catalog, stamped with its `as_of`."""
    stamp = as_of_datetime(row.as_of).isoformat().replace("+00:00", "Z")
    wire = {name: getattr(row, name) for name in fields if getattr(row, name) is not None}
    return wire | {
        "customer_id": CATALOG_CUSTOMER_ID,
        "created_at": stamp,
        "updated_at": stamp,
        "created_by": CATALOG_CREATED_BY,
    }


def gpu_spec(row: GpuRow) -> GpuSpec:
    return GpuSpec(
        id=row.id,
        max_power_w=row.max_power_w,
        idle_power_w=row.idle_power_w,
        memory_gb=row.memory_gb,
        peak_tflops_bf16=row.peak_tflops_bf16,
        peak_tflops_8bit=row.peak_tflops_8bit,
        performance_ratio_to_h200=row.performance_ratio_to_h200,
        embodied_emissions_kgco2e=row.embodied_emissions_kgco2e,
        embodied_water_ml=row.embodied_water_mlh2o,
        host_power_intercept_w=row.ols_intercept,
        host_power_per_gpu_w=row.ols_coefficient_gpu_count,
    )


class Catalog:
    """Immutable indexes over the shipped catalog. Lookups are spelling-insensitive (see `names.norm`)."""

    def __init__(self, catalog_dir: Path) -> None:
        self.dir = catalog_dir
        self.methodology_version = methodology_version(catalog_dir)
        self.calibration: Calibration = load_calibration(catalog_dir / "calibration.csv")
        self.gpus: dict[str, CatalogGpu] = {}
        for gpu_row in read_rows(catalog_dir / "gpus.csv", GpuRow):
            self.gpus[gpu_row.id] = CatalogGpu(gpu_row, gpu_spec(gpu_row), _catalog_wire(gpu_row, GPU_WIRE_FIELDS))

        self.models: dict[str, CatalogModel] = {}
        for row in (row for path in iter_model_files(catalog_dir) for row in read_rows(path, ModelRow)):
            if row.id in self.models:
                raise CatalogError(f"model id {row.id!r} appears twice")
            self.models[row.id] = CatalogModel(
                row, model_spec(row), training_spec(row), _catalog_wire(row, MODEL_WIRE_FIELDS)
            )
        self.clouds = {row.id: row for row in read_rows(catalog_dir / "clouds.csv", CloudRow)}
        self.nodes: dict[str, CatalogNode] = {}
        for node_row in read_rows(catalog_dir / "nodes.csv", NodeRow):
            self.nodes[node_row.id] = CatalogNode(node_row, _catalog_wire(node_row, NODE_WIRE_FIELDS))
        self._index()

        self.services = {row.id: row for row in read_rows(catalog_dir / "managed_services.csv", ManagedServiceRow)}
        self.service_keys = {norm(sid): sid for sid in self.services}
        self.regions: dict[str, CloudRegionRow] = {}
        region_rows = read_rows(catalog_dir / "cloud_regions.csv", CloudRegionRow)
        for region_row in region_rows:
            self.regions.setdefault(norm(region_row.region), region_row)
            self.regions[norm(region_row.cloud_id + region_row.region)] = region_row
        self.datacenters: dict[str, CatalogDatacenter] = {}
        for datacenter_row in shipped_datacenters(region_rows, self.clouds):
            wire = _catalog_wire(datacenter_row, ()) | datacenter_wire(datacenter_row)
            self.datacenters[datacenter_row.id] = CatalogDatacenter(datacenter_row, wire)
        self._index_datacenters()

        grid: dict[tuple[str, str | None], list[tuple[int, float]]] = {}
        # The source of each place's grid figures (its latest year's), for explaining an estimate.
        self.grid_sources: dict[tuple[str, str | None], str] = {}
        for grid_row in read_rows(catalog_dir / "grid_intensity.csv", GridIntensityRow):
            grid.setdefault((grid_row.country, grid_row.region), []).append((grid_row.year, grid_row.gco2e_per_kwh))
            self.grid_sources[(grid_row.country, grid_row.region)] = grid_row.source
        self.grid = {key: sorted(values) for key, values in grid.items()}
        self.countries = frozenset(country for country, _ in self.grid)
        self.grid_water = {
            row.country: row.water_l_per_kwh for row in read_rows(catalog_dir / "grid_water.csv", GridWaterRow)
        }
        self._check_references()

    def _index(self) -> None:
        """The spelling-insensitive lookup tables over `models`, `gpus` and `nodes`."""
        self.gpu_keys = {norm(gid): gid for gid in self.gpus}
        model_rows = [m.row for m in self.models.values()]
        self.model_keys: dict[str, str] = {}
        # Ids and aliases win over names and other spellings.
        for row in model_rows:
            for key in (row.id, *row.aliases):
                self.model_keys.setdefault(norm(key), row.id)
        for row in model_rows:
            spellings = [*row.other_names, row.name, row.family + " " + row.name]
            if row.hugging_face_path:
                spellings.append(row.hugging_face_path)
            for key in spellings:
                self.model_keys.setdefault(norm(key), row.id)
        self.model_ids_and_aliases = {norm(key): row.id for row in model_rows for key in (row.id, *row.aliases)}
        # Hugging Face repositories by their name alone (`Mistral-7B-Instruct-v0.3`), for re-uploads under
        # another organisation (`mistral-community/...`): the name rules' last step. First row wins.
        self.model_repo_names: dict[str, str] = {}
        for row in model_rows:
            for key in (row.hugging_face_path or "", *row.other_names):
                if "/" in key:
                    self.model_repo_names.setdefault(norm(key.rsplit("/", 1)[1]), row.id)
        # Name-rule results by asked spelling (misses of the exact lookup only), and models served at a
        # variant's own precision: filled on demand, reset with the indexes.
        self._rule_cache: dict[str, tuple[str | None, str | None, str | None]] = {}
        self._variant_models: dict[tuple[str, str], CatalogModel] = {}
        self.node_keys: dict[str, str] = {}
        for node in self.nodes.values():
            self.node_keys[norm(node.row.id)] = node.row.id
            if node.row.cloud_id and node.row.cloud_instance_id:
                self.node_keys.setdefault(norm(node.row.cloud_id + node.row.cloud_instance_id), node.row.id)
        self.instance_keys: dict[str, list[str]] = {}
        for node in self.nodes.values():
            if node.row.cloud_instance_id and not node.row.managed_service_id:
                self.instance_keys.setdefault(norm(node.row.cloud_instance_id), []).append(node.row.id)

    def with_entries(
        self,
        *,
        models: Iterable[CatalogModel] = (),
        gpus: Iterable[CatalogGpu] = (),
        nodes: Iterable[CatalogNode] = (),
        datacenters: Iterable[CatalogDatacenter] = (),
        removed: Collection[tuple[str, str]] = (),
    ) -> Catalog:
        """A copy with entries added or replaced (same id) and `(kind, id)` entries removed; self is unchanged.

        Nodes whose GPU is gone from the copy are left out of it, so a lookup never meets a dangling reference.
        """
        view = copy.copy(self)
        view.models = {k: v for k, v in self.models.items() if ("model", k) not in removed}
        view.models.update((m.row.id, m) for m in models)
        view.gpus = {k: v for k, v in self.gpus.items() if ("gpu", k) not in removed}
        view.gpus.update((g.row.id, g) for g in gpus)
        view.nodes = {k: v for k, v in self.nodes.items() if ("node", k) not in removed}
        view.nodes.update((n.row.id, n) for n in nodes)
        view.nodes = {k: n for k, n in view.nodes.items() if n.row.gpu_id in view.gpus}
        view.datacenters = {k: v for k, v in self.datacenters.items() if ("datacenter", k) not in removed}
        view.datacenters.update((d.row.id, d) for d in datacenters)
        view._index()
        view._index_datacenters()
        return view

    def _index_datacenters(self) -> None:
        self.datacenter_keys = {norm(dc_id): dc_id for dc_id in self.datacenters}

    def find_datacenter(self, spelling: str) -> CatalogDatacenter | None:
        found = self.datacenter_keys.get(norm(spelling))
        return self.datacenters[found] if found else None

    def _check_references(self) -> None:
        for node in self.nodes.values():
            if node.row.gpu_id not in self.gpus:
                raise CatalogError(f"node {node.row.id!r}: unknown gpu_id {node.row.gpu_id!r}")
        for service in self.services.values():
            if service.node_id not in self.nodes:
                raise CatalogError(f"managed service {service.id!r}: unknown node_id {service.node_id!r}")
        for model in self.models.values():
            if model.row.default_service and model.row.default_service not in self.services:
                raise CatalogError(f"model {model.row.id!r}: unknown default_service {model.row.default_service!r}")
        if (WORLD, None) not in self.grid or WORLD not in self.grid_water:
            raise CatalogError(f"grid files need a world-average row (country {WORLD})")

    # --- lookups -------------------------------------------------------------------------------------

    def find_model(self, spelling: str) -> CatalogModel | None:
        return self.find_model_explained(spelling)[0]

    def find_model_explained(self, spelling: str) -> tuple[CatalogModel | None, str | None]:
        """The model and, when a name rule found it (not the exact lookup), a sentence saying which."""
        model_id = self.model_keys.get(norm(spelling))
        if model_id is None and ":" in spelling:  # `provider:model`, as batch files write it
            spelling = spelling.split(":", 1)[1]
            model_id = self.model_keys.get(norm(spelling))
        if model_id is not None:
            return self.models[model_id], None
        model_id, datatype, note = self._by_name_rules(spelling)
        if model_id is None:
            return None, None
        model = self.models[model_id]
        if datatype and datatype != model.row.datatype:
            model = self._at_precision(model, datatype)
        return model, note

    def _by_name_rules(self, spelling: str) -> tuple[str | None, str | None, str | None]:
        """(model id, the variant's precision, note) by the name rules (names.derived_spellings), cached."""
        cached = self._rule_cache.get(spelling)
        if cached is not None:
            return cached
        found: tuple[str | None, str | None, str | None] = (None, None, None)
        for derived in [*derived_spellings(spelling), None]:
            asked = derived.spelling if derived else spelling
            model_id = self.model_keys.get(norm(asked)) if derived else None
            if model_id is None and "/" in asked:
                model_id = self.model_repo_names.get(norm(asked.rsplit("/", 1)[1]))
            if model_id is not None:
                rules = list(derived.rules) if derived else []
                if "/" in asked and norm(asked) not in self.model_keys:
                    rules.append("Hugging Face repository name")
                row = self.models[model_id].row
                how = ", ".join(rules)
                if any(rule == "-latest alias" for rule in rules):
                    how += f" (catalog entry as of {row.as_of})"
                datatype = derived.datatype if derived else None
                if datatype:
                    how += f", served at {datatype}"
                found = (
                    model_id,
                    datatype,
                    f"model '{spelling}' is not in the catalog: resolved to '{model_id}' by name rule: {how}",
                )
                break
        if len(self._rule_cache) >= 65536:  # bounded: spellings come from user input
            self._rule_cache.clear()
        self._rule_cache[spelling] = found
        return found

    def _at_precision(self, model: CatalogModel, datatype: str) -> CatalogModel:
        """The model as a variant serves it: same parameters, the variant's own precision."""
        key = (model.row.id, datatype)
        variant = self._variant_models.get(key)
        if variant is None:
            row = model.row.model_copy(update={"datatype": datatype})
            variant = CatalogModel(row, model_spec(row), model.training, model.wire | {"datatype": datatype})
            self._variant_models[key] = variant
        return variant

    def find_model_by_family_name(self, family: str | None, name: str) -> CatalogModel | None:
        return self.find_model_by_family_name_explained(family, name)[0]

    def find_model_by_family_name_explained(
        self, family: str | None, name: str
    ) -> tuple[CatalogModel | None, str | None]:
        if family:
            model_id = self.model_keys.get(family_key(family) + norm(name))
            if model_id:
                return self.models[model_id], None
        return self.find_model_explained(name)

    def suggest_models(self, spelling: str) -> list[str]:
        return close_matches(spelling, self.model_ids_and_aliases)

    def find_node(self, spelling: str) -> CatalogNode | None:
        node_id = self.node_keys.get(norm(spelling))
        return self.nodes[node_id] if node_id else None

    def find_instance(self, cloud: str | None, instance: str) -> CatalogNode | None:
        if cloud:
            return self.find_node(cloud + instance)
        candidates = self.instance_keys.get(norm(instance), [])
        return self.nodes[candidates[0]] if len(candidates) == 1 else None

    def suggest_nodes(self, spelling: str) -> list[str]:
        return close_matches(spelling, self.node_keys)

    def find_service(self, spelling: str) -> ManagedServiceRow | None:
        service_id = self.service_keys.get(norm(spelling))
        return self.services[service_id] if service_id else None

    def find_region(self, cloud: str | None, region: str) -> CloudRegionRow | None:
        if cloud:
            found = self.regions.get(norm(cloud + region))
            if found:
                return found
        return self.regions.get(norm(region))

    def find_gpu(self, spelling: str) -> CatalogGpu | None:
        """By id; a bare family name (`a100`) means its first variant (`a100_40gb`)."""
        key = norm(spelling)
        gpu_id = self.gpu_keys.get(key)
        if gpu_id is None and key:
            variants = sorted((k for k in self.gpu_keys if k.startswith(key)), key=lambda k: (len(k), k))
            gpu_id = self.gpu_keys[variants[0]] if variants else None
        return self.gpus[gpu_id] if gpu_id else None

    def grid_intensity_range(
        self, country: str, region: str | None, year: int | None, used: float
    ) -> tuple[float, float]:
        """(low, high) gCO2e/kWh of a place: the `used` figure when the row names its year, else the range over
        the years the catalog holds for it, and the figure used (the latest year's, or the cloud's own)."""
        if year is not None:
            return used, used
        series = (self.grid.get((country, region)) if region else None) or self.grid[(country, None)]
        values = [value for _, value in series] + [used]
        return min(values), max(values)

    def grid_intensity(self, country: str, region: str | None, year: int | None) -> tuple[str | None, float]:
        """(region used or None, gCO2e/kWh) for that year, else the nearest earlier one, else the first."""
        series = self.grid.get((country, region)) if region else None
        used_region = region if series else None
        if series is None:
            series = self.grid[(country, None)]
        if year is None:
            return used_region, series[-1][1]
        index = bisect.bisect_right(series, (year, math.inf)) - 1
        return used_region, series[max(index, 0)][1]


@lru_cache(maxsize=4)
def load_catalog(catalog_dir: Path) -> Catalog:
    """One catalog per directory per process."""
    return Catalog(catalog_dir)
