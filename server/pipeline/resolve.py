"""Catalog lookups for one row: model, hardware, site and grid. Cached per distinct combination."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from server.catalog.names import close_matches, did_you_mean, norm
from server.catalog.rows import DatacenterRow, ManagedServiceRow
from server.catalog.store import COUNTRY_ALIASES, WORLD, Catalog, CatalogDatacenter, CatalogModel, CatalogNode
from server.engine import Calibration, ModelSpec, NodeSpec, Prepared, SiteSpec, prepare, site_embodied_per_it_kwh
from server.engine.constants import (
    BYTES_PER_PARAM,
    DATACENTER_AVERAGE_LOAD,
    DATACENTER_USE_LIFE_YEARS,
    DEFAULT_STREAMS_PER_GPU,
    DEFAULT_STREAMS_PER_GPU_RANGE,
    DEFAULT_USE_LIFE_YEARS,
    DEFAULT_UTILIZATION,
    DEFAULT_UTILIZATION_RANGE,
    DIFFUSION_BATCH_RANGE,
    PREFILL_MFU_MOE_SATURATED,
)
from server.pipeline.errors import RowError
from server.schemas.impact import CustomHardware, ImpactRow

# Used when a model names no default service (custom models): a shared H100 fleet on AWS.
FALLBACK_SERVICE_ID = "aws-bedrock"
# Site of hardware with no cloud or service: industry average (Uptime Institute Global Data Center Survey
# 2024, PUE 1.56), and the `on-prem` row of clouds.csv when present.
ON_PREMISES_CLOUD_ID = "on-prem"
INDUSTRY_AVERAGE_PUE = 1.56
# Host embodied carbon of a server without GPUs when an inline node does not say: BLOOM's inference server
# (Luccioni et al. 2022, "Estimating the Carbon Footprint of BLOOM"), ~2,500 kgCO2e for an 8-GPU server.
DEFAULT_HOST_EMBODIED_KGCO2E = 2500.0
DEFAULT_HOST_EMBODIED_WATER_L = 0.0
DEFAULT_SERVER_GPUS = 8


@dataclass(frozen=True, slots=True)
class Resolved:
    model: CatalogModel
    prepared: Prepared
    node_wire: dict[str, Any]
    country: str
    region: str | None
    gco2e_per_kwh: float
    # How a name rule reached the model when the exact lookup missed (server/catalog/names.py), for debug.
    model_note: str | None = None
    # The same request with every ranged figure at its low-energy end, and at its high-energy end (`bounds`).
    prepared_low: Prepared | None = None
    prepared_high: Prepared | None = None
    # The datacenter a row named and the figures it set, for debug.
    site_note: str | None = None


@dataclass(frozen=True, slots=True)
class Site:
    """Where a row ran: the engine's site figures, the place and its grid, and the datacenter it named."""

    spec: SiteSpec
    country: str
    region: str | None
    gco2e_per_kwh: float
    fixed_grid: bool = False  # the figure is the site's own for every year (no range over the grid's years)
    datacenter: CatalogDatacenter | None = None

    def note(self) -> str | None:
        """What a named datacenter set, for debug."""
        if self.datacenter is None:
            return None
        place = self.country + (f"-{self.region}" if self.region else "")
        grid = "its own figure" if self.fixed_grid else f"the grid of {place}"
        d = self.datacenter.row
        note = (
            f"datacenter {d.id}: PUE {self.spec.pue:g}, on-site WUE "
            f"{self.spec.wue_l_per_kwh:g} L/kWh, {self.gco2e_per_kwh:g} gCO2e/kWh ({grid})"
        )
        building = _building(d)
        if building is not None:
            capacity, life, load = building
            note += (
                f"; its building: {self.spec.embodied_gco2e_per_it_kwh:.4g} gCO2e and "
                f"{self.spec.embodied_water_ml_per_it_kwh:.4g} mL water per IT kWh ({capacity:g} MW "
                f"over {life:g} years at {load:g} load)"
            )
        return note


def _building(d: DatacenterRow) -> tuple[float, float, float] | None:
    """(IT capacity MW, life years, average load) a site's embodied totals are shared over, defaults filled; None
    for a site without a capacity (accounts.editing refuses embodied totals without one)."""
    if not d.it_capacity_mw:
        return None
    return d.it_capacity_mw, d.use_life_years or DATACENTER_USE_LIFE_YEARS, d.average_load or DATACENTER_AVERAGE_LOAD


@dataclass(frozen=True, slots=True)
class Hosting:
    node: NodeSpec
    node_wire: dict[str, Any]
    service: ManagedServiceRow | None
    cloud_id: str | None
    utilization_given: bool = False  # the row set it: no range


def resolve_key(row: ImpactRow) -> tuple[Any, ...]:
    """Everything about a row that the resolution depends on (not its counts)."""
    hosting = row.hosting
    return (
        row.model_id,
        row.model_family,
        row.model_name,
        row.model_hugging_face_path,
        row.managed_service_id,
        row.node_id,
        row.cloud_id,
        row.cloud_instance_id,
        row.cloud_region,
        row.country,
        row.region,
        row.datacenter_id,
        row.utc_datetime.year if row.utc_datetime else None,
        tuple(hosting.__dict__.values()) if hosting else None,
    )


def resolve_model(catalog: Catalog, row: ImpactRow) -> CatalogModel:
    return resolve_model_explained(catalog, row)[0]


def resolve_model_explained(catalog: Catalog, row: ImpactRow) -> tuple[CatalogModel, str | None]:
    """The row's model and, when a name rule (not the exact lookup) found it, how."""
    if row.model_id:
        found, note = catalog.find_model_explained(row.model_id)
        field, asked = "model_id", row.model_id
    elif row.model_hugging_face_path:
        found, note = catalog.find_model_explained(row.model_hugging_face_path)
        field, asked = "model_hugging_face_path", row.model_hugging_face_path
    elif row.model_name:
        found, note = catalog.find_model_by_family_name_explained(row.model_family, row.model_name)
        field, asked = "model_name", row.model_name
    elif row.model_family:
        raise RowError("MISSING_MODEL", "model_family needs model_name to pick a model", "model_name")
    else:
        raise RowError("MISSING_MODEL", "a row needs model_id, model_name or model_hugging_face_path", "model_id")
    if found is None:
        hint = did_you_mean(catalog.suggest_models(asked))
        raise RowError("UNKNOWN_MODEL", f"unknown model '{asked}'{hint}", field, reason="not in the catalog")
    return found, note


def published_throughput(service: ManagedServiceRow, model: CatalogModel) -> tuple[float | None, float | None]:
    """(decode, prefill) tokens/s per accelerator the service publishes for its fleet, for a model of the size it
    was measured on (total and active parameters within 2 %); (None, None) for any other model."""
    total, active = service.throughput_total_params_b, service.throughput_active_params_b
    if total is None or active is None:
        return None, None
    spec = model.spec
    if not (
        math.isclose(spec.total_params_b, total, rel_tol=0.02)
        and math.isclose(spec.active_params_b, active, rel_tol=0.02)
    ):
        return None, None
    return service.decode_tokens_per_s_per_gpu, service.prefill_tokens_per_s_per_gpu


def _catalog_node(
    node: CatalogNode,
    *,
    service: ManagedServiceRow | None,
    utilization: float | None,
    sized: bool,
    catalog: Catalog,
    model: CatalogModel | None = None,
) -> NodeSpec:
    row = node.row
    # A published throughput describes the service's own fleet: it applies when the request runs there.
    decode, prefill = published_throughput(service, model) if sized and service and model else (None, None)
    return NodeSpec(
        gpu=catalog.gpus[row.gpu_id].spec,
        gpu_count=None if sized else row.gpu_count,
        server_gpu_count=max(row.gpu_count, 1),
        host_power_w_ex_gpu=row.idle_power_w_ex_gpu,
        average_utilization_rate=utilization or row.average_utilization_rate or DEFAULT_UTILIZATION,
        embodied_emissions_kgco2e_ex_gpu=row.embodied_emissions_kgco2e_ex_gpu or 0.0,
        embodied_water_l_ex_gpu=row.embodied_water_l_ex_gpu or 0.0,
        use_life_years=row.use_life_years or DEFAULT_USE_LIFE_YEARS,
        streams_per_gpu=service.streams_per_gpu if service else DEFAULT_STREAMS_PER_GPU,
        cached_input_share=service.cached_input_share if service else 0.0,
        decode_tokens_per_s_per_gpu=decode,
        prefill_tokens_per_s_per_gpu=prefill,
    )


def _inline_node(catalog: Catalog, hardware: CustomHardware) -> tuple[NodeSpec, dict[str, Any]]:
    assert hardware.gpu is not None
    gpu = catalog.find_gpu(hardware.gpu)
    if gpu is None:
        hint = did_you_mean([g for g in catalog.gpus if hardware.gpu.lower()[:2] in g][:3])
        raise RowError("UNKNOWN_GPU", f"unknown gpu '{hardware.gpu}'{hint}", "hosting.gpu")
    gpu_count = hardware.gpu_count or None
    server_gpus = gpu_count or DEFAULT_SERVER_GPUS
    spec = NodeSpec(
        gpu=gpu.spec,
        gpu_count=gpu_count,
        server_gpu_count=server_gpus,
        host_power_w_ex_gpu=hardware.idle_power_w_ex_gpu,
        average_utilization_rate=hardware.utilization() or DEFAULT_UTILIZATION,
        embodied_emissions_kgco2e_ex_gpu=(
            hardware.embodied_emissions_kgco2e_ex_gpu
            if hardware.embodied_emissions_kgco2e_ex_gpu is not None
            else DEFAULT_HOST_EMBODIED_KGCO2E
        ),
        embodied_water_l_ex_gpu=hardware.embodied_water_l_ex_gpu or DEFAULT_HOST_EMBODIED_WATER_L,
        use_life_years=hardware.use_life_years or DEFAULT_USE_LIFE_YEARS,
        streams_per_gpu=DEFAULT_STREAMS_PER_GPU,
    )
    wire = {
        "id": "inline-node",
        "gpu_id": gpu.row.id,
        "gpu_count": server_gpus,
        "cpu_count": hardware.cpu_count or 1,
        "average_utilization_rate": spec.average_utilization_rate,
        "embodied_emissions_kgco2e_ex_gpu": spec.embodied_emissions_kgco2e_ex_gpu,
        "use_life_years": spec.use_life_years,
        "created_at": "1970-01-01T00:00:00Z",
        "updated_at": "1970-01-01T00:00:00Z",
    }
    if hardware.idle_power_w_ex_gpu is not None:
        wire["idle_power_w_ex_gpu"] = hardware.idle_power_w_ex_gpu
    return spec, wire


def resolve_service(catalog: Catalog, spelling: str) -> ManagedServiceRow:
    service = catalog.find_service(spelling)
    if service is None:
        hint = did_you_mean(close_matches(spelling, catalog.service_keys))
        raise RowError("UNKNOWN_SERVICE", f"unknown managed service '{spelling}'{hint}", "managed_service_id")
    return service


def resolve_hosting(catalog: Catalog, row: ImpactRow, model: CatalogModel) -> Hosting:
    service = resolve_service(catalog, row.managed_service_id) if row.managed_service_id else None
    hardware = row.hosting
    override_utilization = hardware.utilization() if hardware else None
    utilization = override_utilization or (service.average_utilization_rate if service else None)

    if hardware is not None and hardware.gpu is not None:
        spec, wire = _inline_node(catalog, hardware)
        return Hosting(spec, wire, service, row.cloud_id, override_utilization is not None)

    node: CatalogNode | None = None
    if row.node_id:
        node = catalog.find_node(row.node_id)
        if node is None:
            hint = did_you_mean(catalog.suggest_nodes(row.node_id))
            raise RowError("UNKNOWN_NODE", f"unknown node '{row.node_id}'{hint}", "node_id")
    elif row.cloud_instance_id:
        node = catalog.find_instance(row.cloud_id, row.cloud_instance_id)
        if node is None:
            asked = f"{row.cloud_id}:{row.cloud_instance_id}" if row.cloud_id else row.cloud_instance_id
            hint = did_you_mean(catalog.suggest_nodes(asked))
            raise RowError("UNKNOWN_INSTANCE", f"unknown cloud instance '{asked}'{hint}", "cloud_instance_id")
    if node is not None:
        spec = _catalog_node(node, service=service, utilization=utilization, sized=False, catalog=catalog)
        return Hosting(spec, node.wire, service, node.row.cloud_id or row.cloud_id, override_utilization is not None)

    if service is None:
        service = catalog.services.get(model.row.default_service or FALLBACK_SERVICE_ID)
        if service is None:
            service = catalog.services[FALLBACK_SERVICE_ID]
        utilization = override_utilization or service.average_utilization_rate
    fleet = catalog.nodes[service.node_id]
    spec = _catalog_node(fleet, service=service, utilization=utilization, sized=True, catalog=catalog, model=model)
    return Hosting(spec, fleet.wire, service, service.cloud_id, override_utilization is not None)


def _country(catalog: Catalog, code: str, field: str) -> str:
    upper = code.upper()
    upper = COUNTRY_ALIASES.get(upper, upper)
    if upper not in catalog.countries:
        hint = did_you_mean(close_matches(upper, {c.lower(): c for c in catalog.countries}))
        raise RowError(
            "UNKNOWN_COUNTRY",
            f"unknown country '{code}'{hint}",
            field,
            reason="not an ISO 3166-1 alpha-2 code with grid data",
        )
    return upper


def resolve_datacenter(catalog: Catalog, row: ImpactRow) -> CatalogDatacenter:
    assert row.datacenter_id is not None
    found = catalog.find_datacenter(row.datacenter_id)
    if found is None:
        hint = did_you_mean(close_matches(row.datacenter_id, catalog.datacenter_keys))
        raise RowError(
            "UNKNOWN_DATACENTER",
            f"unknown datacenter '{row.datacenter_id}'{hint}",
            "datacenter_id",
            reason="not in the catalog or the account's datacenters",
        )
    return found


def _disagrees(field: str, asked: str, site: CatalogDatacenter, has: str) -> RowError:
    return RowError(
        "CONFLICTING_PLACE",
        f"{field} '{asked}' disagrees with datacenter '{site.row.id}' ({has}): give one or the other",
        field,
    )


def datacenter_site(catalog: Catalog, row: ImpactRow, site: CatalogDatacenter) -> Site:
    """The site of a row that names its datacenter: the datacenter's PUE, on-site WUE, grid and place.

    Precedence: the datacenter is the most specific statement of where the request ran, so its figures win over
    the service's, the cloud's and the region's; its own `gco2e_per_kwh`, when given, over the grid of its place
    (for any year). A `country`, `region` or `cloud_region` on the row must agree with the datacenter's own
    (else that row's error); one it lacks (a saved datacenter with no country) the row may supply. What the
    datacenter leaves blank comes from its cloud (PUE, WUE), else the industry average PUE and no on-site water.
    Its embodied totals, with its IT capacity, add the building's share per IT kWh to the row's embodied figures.
    """
    d = site.row
    country, region = d.country, d.region_code
    if row.country:
        asked = _country(catalog, row.country, "country")
        if country is not None and asked != country:
            raise _disagrees("country", row.country, site, f"in {country}")
        asked_region = row.region.upper() if row.region else None
        if country is not None and asked_region and region and asked_region != region:
            raise _disagrees("region", row.region or "", site, f"in {country}-{region}")
        country, region = asked, region or asked_region
    elif row.region:
        raise RowError("MISSING_COUNTRY", "region needs country (e.g. country US, region NY)", "country")
    if row.cloud_region and d.cloud_region and norm(row.cloud_region) != norm(d.cloud_region):
        raise _disagrees("cloud_region", row.cloud_region, site, f"region {d.cloud_region}")
    country = country or WORLD
    year = row.utc_datetime.year if row.utc_datetime else None
    used_region, grid = catalog.grid_intensity(country, region, year)
    own_grid = d.gco2e_per_kwh is not None
    gco2e = d.gco2e_per_kwh if d.gco2e_per_kwh is not None else grid
    cloud = catalog.clouds.get(d.cloud_id or "")
    pue = d.pue or (cloud.pue if cloud else INDUSTRY_AVERAGE_PUE)
    wue = d.wue_l_per_kwh if d.wue_l_per_kwh is not None else (cloud.wue_l_per_kwh if cloud else 0.0)
    spec = _site(catalog, pue, wue, gco2e, country)
    building = _building(d)
    if building is not None:
        g_per_kwh, ml_per_kwh = site_embodied_per_it_kwh(
            d.embodied_emissions_kgco2e or 0.0, d.embodied_water_l or 0.0, *building
        )
        spec = replace(spec, embodied_gco2e_per_it_kwh=g_per_kwh, embodied_water_ml_per_it_kwh=ml_per_kwh)
    return Site(spec, country, used_region, gco2e, own_grid, site)


def resolve_site(catalog: Catalog, row: ImpactRow, hosting: Hosting) -> Site:
    """The row's datacenter, else its explicit place, cloud region, service default, else world."""
    if row.datacenter_id:
        return datacenter_site(catalog, row, resolve_datacenter(catalog, row))
    year = row.utc_datetime.year if row.utc_datetime else None
    region_row = None
    provider_gco2e: float | None = None
    if row.country:
        country = _country(catalog, row.country, "country")
        region = row.region.upper() if row.region else None
    elif row.cloud_region:
        region_row = catalog.find_region(row.cloud_id or hosting.cloud_id, row.cloud_region)
        if region_row is None:
            hint = did_you_mean(close_matches(row.cloud_region, {k: r.region for k, r in catalog.regions.items()}))
            raise RowError("UNKNOWN_REGION", f"unknown cloud region '{row.cloud_region}'{hint}", "cloud_region")
        country, region = region_row.country, region_row.region_code
        provider_gco2e = region_row.gco2e_per_kwh
    elif hosting.service is not None:
        country, region = hosting.service.country, hosting.service.region_code
    else:
        cloud = catalog.clouds.get(hosting.cloud_id or "")
        region_row = (
            catalog.find_region(cloud.id, cloud.default_cloud_region)
            if (cloud and cloud.default_cloud_region)
            else None
        )
        country, region = (region_row.country, region_row.region_code) if region_row else (WORLD, None)
    if row.region and not row.country:
        raise RowError("MISSING_COUNTRY", "region needs country (e.g. country US, region NY)", "country")

    used_region, gco2e = catalog.grid_intensity(country, region, year)
    if provider_gco2e is not None and year is None:
        gco2e = provider_gco2e
    pue, wue = _pue_wue(catalog, hosting, region_row)
    return Site(_site(catalog, pue, wue, gco2e, country), country, used_region, gco2e)


def _site(catalog: Catalog, pue: float, wue: float, gco2e: float, country: str) -> SiteSpec:
    """A site's figures, with the water consumed generating the electricity of its country (else the world's)."""
    return SiteSpec(
        pue=pue,
        wue_l_per_kwh=wue,
        gco2e_per_kwh=gco2e,
        grid_water_l_per_kwh=catalog.grid_water.get(country, catalog.grid_water[WORLD]),
    )


def _pue_wue(catalog: Catalog, hosting: Hosting, region_row: Any) -> tuple[float, float]:
    if hosting.service is not None:
        return hosting.service.pue, hosting.service.wue_l_per_kwh
    cloud = catalog.clouds.get(hosting.cloud_id or "") or catalog.clouds.get(ON_PREMISES_CLOUD_ID)
    pue = region_row.pue if region_row is not None and region_row.pue else None
    if cloud is not None:
        return pue or cloud.pue, cloud.wue_l_per_kwh
    return pue or INDUSTRY_AVERAGE_PUE, 0.0


def served_model(model: CatalogModel, service: ManagedServiceRow | None) -> ModelSpec:
    """The model as the service runs it: its weights at the service's published serving precision, if any."""
    if service is None or service.served_precision is None:
        return model.spec
    return replace(model.spec, bytes_per_param=BYTES_PER_PARAM[service.served_precision])


def model_bounds(model: CatalogModel, served: ModelSpec) -> tuple[ModelSpec, ModelSpec]:
    """The served model at the low and the high end of its published parameter range (`params_low_billions`,
    `params_high_billions`: the active parameters; a dense model's total moves with them), else as it is."""
    row = model.row
    bounds = []
    for params in (row.params_low_billions, row.params_high_billions):
        if params is None:
            bounds.append(served)
            continue
        total = max(served.total_params_b, params) if served.is_mixture_of_experts else params
        bounds.append(replace(served, active_params_b=params, total_params_b=total))
    return bounds[0], bounds[1]


def node_bounds(hosting: Hosting, calibration: Calibration) -> tuple[NodeSpec, NodeSpec]:
    """The node at the low-energy end of its serving ranges (most streams, most cache hits, busiest) and at the
    high-energy end: the service's ranges (managed_services.csv), else the defaults' (server/engine/constants.py).
    A utilisation the row gives has no range. A published throughput's energy ranges with the accelerators' draw
    (the 10th to 90th percentile ML.ENERGY measured), which the fit's energy per token already holds."""
    node, service = hosting.node, hosting.service
    if service is not None:
        streams = (service.streams_per_gpu_low, service.streams_per_gpu_high)
        cached = (service.cached_input_share_low, service.cached_input_share_high)
        busy = (service.average_utilization_rate_low, service.average_utilization_rate_high)
    else:
        streams, cached = DEFAULT_STREAMS_PER_GPU_RANGE, (node.cached_input_share, node.cached_input_share)
        busy = DEFAULT_UTILIZATION_RANGE
    if hosting.utilization_given:
        busy = (node.average_utilization_rate, node.average_utilization_rate)
    power: tuple[float | None, float | None] = (None, None)
    if node.decode_tokens_per_s_per_gpu is not None or node.prefill_tokens_per_s_per_gpu is not None:
        power = (calibration.gpu_serving_power_fraction_low, calibration.gpu_serving_power_fraction_high)
    # The low-energy end takes the high end of streams, cache hits and utilisation, the low end of the draw, and
    # a mixture of experts prefilling as on a saturated node; the high end keeps the fleet average's prefill.
    mfu_moe = (node.prefill_mfu_moe, PREFILL_MFU_MOE_SATURATED)
    low, high = (
        replace(
            node,
            streams_per_gpu=streams[end],
            cached_input_share=cached[end],
            average_utilization_rate=busy[end],
            serving_power_fraction=power[1 - end],
            prefill_mfu_moe=mfu_moe[end],
        )
        for end in (1, 0)
    )
    return low, high


def resolve(catalog: Catalog, row: ImpactRow) -> Resolved:
    model, note = resolve_model_explained(catalog, row)
    hosting = resolve_hosting(catalog, row, model)
    site = resolve_site(catalog, row, hosting)
    served = served_model(model, hosting.service)
    training, calibration = model.training, catalog.calibration
    prepared = prepare(model=served, node=hosting.node, site=site.spec, training=training, calibration=calibration)
    # The low and the high: every ranged figure at the end that lowers, then raises, the estimate.
    models, nodes = model_bounds(model, served), node_bounds(hosting, calibration)
    year = row.utc_datetime.year if row.utc_datetime else None
    gco2e = site.gco2e_per_kwh
    grids = (gco2e, gco2e) if site.fixed_grid else catalog.grid_intensity_range(site.country, site.region, year, gco2e)
    # Diffusion's batch: the most outputs per batch at the low end, one at the high end.
    batches = (DIFFUSION_BATCH_RANGE[1], DIFFUSION_BATCH_RANGE[0])
    low, high = (
        prepare(
            model=models[end],
            node=nodes[end],
            site=replace(site.spec, gco2e_per_kwh=grids[end]),
            training=training,
            calibration=replace(calibration, diffusion_batch_size=batches[end]),
        )
        for end in (0, 1)
    )
    wire = hosting.node_wire
    return Resolved(model, prepared, wire, site.country, site.region, gco2e, note, low, high, site.note())
