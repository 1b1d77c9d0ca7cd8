"""Sizing of the serving hardware and the energy of the hardware around the GPUs."""

from __future__ import annotations

import math

from server.engine import constants as c
from server.engine.specs import Calibration, GpuSpec, ModelSpec, NodeSpec, SiteSpec


def gpus_for_weights(model: ModelSpec, gpu: GpuSpec) -> int:
    """GPUs needed to hold the weights: bytes x overhead / memory, rounded up to a power of two."""
    weights_gb = model.total_params_b * model.bytes_per_param * c.WEIGHTS_MEMORY_OVERHEAD
    needed = max(1, math.ceil(weights_gb / gpu.memory_gb))
    return 1 << (needed - 1).bit_length()


def serving_gpu_count(model: ModelSpec, node: NodeSpec) -> int:
    """The node's own count when it states one (whole nodes if the weights need more), else sized."""
    needed = gpus_for_weights(model, node.gpu)
    if node.gpu_count is None or node.gpu_count <= 0:
        return needed
    return node.gpu_count * math.ceil(needed / node.gpu_count)


def host_power_w(node: NodeSpec, gpu_count: int) -> float:
    """Host power ex-GPU for the request's share of servers (CPU, DRAM, NICs, fans)."""
    share = gpu_count / max(node.server_gpu_count, 1)
    if node.host_power_w_ex_gpu is not None:
        return node.host_power_w_ex_gpu * share
    server_w = node.gpu.host_power_intercept_w + node.gpu.host_power_per_gpu_w * node.server_gpu_count
    return server_w * share


def gpu_serving_power_w(gpu: GpuSpec, calibration: Calibration, fraction: float | None = None) -> float:
    """An accelerator's draw while serving: `fraction` of its maximum, else the calibration's measured median."""
    return gpu.max_power_w * (fraction if fraction is not None else calibration.gpu_serving_power_fraction)


def it_parts_per_gpu_j(node: NodeSpec, gpu_count: int, calibration: Calibration) -> tuple[float, float, float]:
    """(host joules, idle-reserve joules, node-seconds) per GPU joule.

    While the GPUs spend 1 J on the request, the host draws its power for the same time, and the
    capacity held idle between requests (1/u - 1 of that time) draws idle power.
    """
    gpus_w = gpu_count * gpu_serving_power_w(node.gpu, calibration, node.serving_power_fraction)
    seconds_per_j = 1.0 / gpus_w
    host_w = host_power_w(node, gpu_count)
    idle_w = host_w + gpu_count * node.gpu.idle_power_w
    idle_fraction = 1.0 / node.average_utilization_rate - 1.0
    return seconds_per_j * host_w, seconds_per_j * idle_fraction * idle_w, seconds_per_j


def it_energy_per_gpu_j(node: NodeSpec, gpu_count: int, calibration: Calibration) -> tuple[float, float]:
    """(IT joules per GPU joule: the GPU's 1 + host + idle reserve, node-seconds per GPU joule)."""
    host_j, idle_j, seconds_per_j = it_parts_per_gpu_j(node, gpu_count, calibration)
    return 1.0 + host_j + idle_j, seconds_per_j


def embodied_per_node_second(node: NodeSpec, gpu_count: int) -> tuple[float, float]:
    """(gCO2e, mL water) of manufacturing per second of the request's share of servers, idle share included."""
    share = gpu_count / max(node.server_gpu_count, 1)
    kgco2e = gpu_count * node.gpu.embodied_emissions_kgco2e + node.embodied_emissions_kgco2e_ex_gpu * share
    water_ml = gpu_count * node.gpu.embodied_water_ml + node.embodied_water_l_ex_gpu * c.ML_PER_L * share
    life_s = node.use_life_years * c.SECONDS_PER_YEAR * node.average_utilization_rate
    return kgco2e * c.G_PER_KG / life_s, water_ml / life_s


def site_embodied_per_it_kwh(
    embodied_kgco2e: float,
    embodied_water_l: float,
    it_capacity_mw: float,
    use_life_years: float = c.DATACENTER_USE_LIFE_YEARS,
    average_load: float = c.DATACENTER_AVERAGE_LOAD,
) -> tuple[float, float]:
    """(gCO2e, mL water) of a site's building and plant per IT kWh: its totals over the IT energy of its life."""
    life_it_kwh = it_capacity_mw * c.KW_PER_MW * use_life_years * c.HOURS_PER_YEAR * average_load
    return embodied_kgco2e * c.G_PER_KG / life_it_kwh, embodied_water_l * c.ML_PER_L / life_it_kwh


def site_factors(site: SiteSpec) -> tuple[float, float, float]:
    """(facility Wh, gCO2e, mL water) per IT joule: PUE, grid intensity, on-site WUE + generation water."""
    facility_wh = site.pue / c.J_PER_WH
    facility_kwh = facility_wh / c.WH_PER_KWH
    gco2e = facility_kwh * site.gco2e_per_kwh
    water_ml = (site.wue_l_per_kwh / c.J_PER_KWH + facility_kwh * site.grid_water_l_per_kwh) * c.ML_PER_L
    return facility_wh, gco2e, water_ml
