"""Pydantic models of the shipped catalog's CSV rows (server/catalog/data/README.md describes each column)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from server.schemas.enums import DataType, SpecTask


def _blank_to_none(value: object) -> object:
    return None if value == "" else value


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split("|") if part.strip()]
    return value


Opt = Annotated[float | None, BeforeValidator(_blank_to_none)]
OptInt = Annotated[int | None, BeforeValidator(_blank_to_none)]
OptStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
StrList = Annotated[list[str], BeforeValidator(_split_list)]
AsOf = Annotated[str, Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")]
Source = Annotated[str, Field(min_length=3)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
RegionCode = Annotated[Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None, BeforeValidator(_blank_to_none)]

# Optional numbers with bounds: a blank cell is None, a filled one must be in range.
OptPowerW = Annotated[Annotated[float, Field(ge=0, le=10000)] | None, BeforeValidator(_blank_to_none)]
OptFraction = Annotated[Annotated[float, Field(gt=0, le=1)] | None, BeforeValidator(_blank_to_none)]
OptHostAmount = Annotated[Annotated[float, Field(ge=0, le=100000)] | None, BeforeValidator(_blank_to_none)]
OptLifeYears = Annotated[Annotated[float, Field(ge=1, le=30)] | None, BeforeValidator(_blank_to_none)]
OptGridIntensity = Annotated[Annotated[float, Field(ge=0, le=2000)] | None, BeforeValidator(_blank_to_none)]
OptPue = Annotated[Annotated[float, Field(ge=1)] | None, BeforeValidator(_blank_to_none)]
OptPositive = Annotated[Annotated[float, Field(gt=0)] | None, BeforeValidator(_blank_to_none)]
OptPositiveInt = Annotated[Annotated[int, Field(ge=1)] | None, BeforeValidator(_blank_to_none)]


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source
    as_of: AsOf


class ModelRow(Row):
    id: str = Field(min_length=1, pattern=r"^[^:\s]+$")
    name: str
    family: str
    provider: str
    aliases: StrList = []
    other_names: StrList = []
    hugging_face_path: OptStr = None
    task: Annotated[SpecTask | None, BeforeValidator(_blank_to_none)] = None
    datatype: Annotated[DataType | None, BeforeValidator(_blank_to_none)] = None
    total_params_billions: Annotated[float, Field(gt=0)]
    active_params_billions: Opt = None
    number_of_experts: OptInt = None
    params_per_expert_billions: Opt = None
    params_low_billions: Opt = None
    params_high_billions: Opt = None
    params_estimated: bool = False
    default_service: OptStr = None
    default_steps: OptInt = None
    default_resolution: Annotated[
        Annotated[str, Field(pattern=r"^\d{1,5}x\d{1,5}$")] | None, BeforeValidator(_blank_to_none)
    ] = None
    training_usage_energy_kwh: Opt = None
    training_usage_emissions_kgco2e: Opt = None
    training_usage_water_l: Opt = None
    training_embodied_emissions_kgco2e: Opt = None
    training_embodied_water_l: Opt = None
    estimated_use_life_days: Opt = None
    estimated_requests_per_day: Opt = None
    # Diffusion denoiser architecture (server/catalog/data/README.md); blank = the engine's documented default.
    denoiser_layers: OptPositiveInt = None
    hidden_size: OptPositiveInt = None
    px_per_latent_token: OptPositive = None
    temporal_compression: Annotated[Annotated[float, Field(ge=1)] | None, BeforeValidator(_blank_to_none)] = None
    guidance_passes: Annotated[Annotated[int, Field(ge=1, le=2)] | None, BeforeValidator(_blank_to_none)] = None
    quadratic_attention: Annotated[bool | None, BeforeValidator(_blank_to_none)] = None


class GpuRow(Row):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    vendor: str
    memory_gb: Annotated[float, Field(gt=0)]
    max_power_w: Annotated[float, Field(gt=0)]
    idle_power_w: Annotated[float, Field(ge=0)]
    peak_tflops_bf16: Annotated[float, Field(gt=0)]
    peak_tflops_8bit: OptPositive = None  # dense FP8/INT8 tensor throughput; None: no 8-bit speed-up
    memory_bandwidth_tbps: Annotated[float, Field(gt=0)]
    embodied_emissions_kgco2e: Annotated[float, Field(ge=0)]
    embodied_water_mlh2o: Annotated[float, Field(ge=0)]
    performance_ratio_to_h200: Annotated[float, Field(gt=0)]
    ols_intercept: float
    ols_coefficient_gpu_count: float


class NodeRow(Row):
    id: str = Field(pattern=r"^[a-z0-9-]+$", min_length=3, max_length=64)
    cloud_id: OptStr = None
    cloud_instance_id: OptStr = None
    managed_service_id: OptStr = None
    gpu_id: str
    gpu_count: Annotated[int, Field(ge=0, le=10000)]
    cpu_count: Annotated[int, Field(ge=1, le=10000)]
    memory_gb: Opt = None
    idle_power_w_ex_gpu: OptPowerW = None
    average_utilization_rate: OptFraction = None
    embodied_emissions_kgco2e_ex_gpu: OptHostAmount = None
    embodied_water_l_ex_gpu: OptHostAmount = None
    use_life_years: OptLifeYears = None


class CloudRow(Row):
    id: str
    name: str
    pue: Annotated[float, Field(ge=1)]
    wue_l_per_kwh: Annotated[float, Field(ge=0)]
    default_cloud_region: OptStr = None


class DatacenterRow(Row):
    """A site requests run in (the Scope3 API's `Datacenter`): its PUE, on-site water, grid and place.

    The shipped ones are the sites behind the cloud regions (`store.shipped_datacenters`); accounts save their own.
    `country` / `region_code` / `wue_l_per_kwh` go beyond the spec's fields: the place gives the grid (when
    `gco2e_per_kwh` is blank) and the water of its electricity. So do `it_capacity_mw`, `use_life_years` and
    `average_load`: the spec's embodied totals have no denominator, and these give one (requests get the
    building's share per IT kWh they use).
    """

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    name: str = Field(min_length=1, max_length=100)
    description: OptStr = None
    lat: Annotated[Annotated[float, Field(ge=-90, le=90)] | None, BeforeValidator(_blank_to_none)] = None
    lng: Annotated[Annotated[float, Field(ge=-180, le=180)] | None, BeforeValidator(_blank_to_none)] = None
    pue: Annotated[Annotated[float, Field(ge=1, le=3)] | None, BeforeValidator(_blank_to_none)] = None
    wue_l_per_kwh: Annotated[Annotated[float, Field(ge=0, le=20)] | None, BeforeValidator(_blank_to_none)] = None
    gco2e_per_kwh: OptGridIntensity = None
    embodied_water_l: Annotated[Annotated[float, Field(ge=0)] | None, BeforeValidator(_blank_to_none)] = None
    embodied_emissions_kgco2e: Annotated[Annotated[float, Field(ge=0)] | None, BeforeValidator(_blank_to_none)] = None
    # What the embodied totals are shared over (IT capacity x life x average load), beyond the spec's fields.
    it_capacity_mw: Annotated[Annotated[float, Field(gt=0, le=10000)] | None, BeforeValidator(_blank_to_none)] = None
    use_life_years: Annotated[Annotated[float, Field(gt=0, le=100)] | None, BeforeValidator(_blank_to_none)] = None
    average_load: Annotated[Annotated[float, Field(gt=0, le=1)] | None, BeforeValidator(_blank_to_none)] = None
    country: Annotated[Country | None, BeforeValidator(_blank_to_none)] = None
    region_code: RegionCode = None
    cloud_id: OptStr = None
    cloud_region: OptStr = None
    locked: bool = False


class CloudRegionRow(Row):
    cloud_id: str
    region: str
    country: Country
    region_code: RegionCode = None
    city: OptStr = None
    gco2e_per_kwh: OptGridIntensity = None
    pue: OptPue = None


class ManagedServiceRow(Row):
    id: str = Field(min_length=3, max_length=64)
    name: str
    cloud_id: OptStr = None
    default_cloud_region: OptStr = None
    country: Country
    region_code: RegionCode = None
    node_id: str
    pue: Annotated[float, Field(ge=1)]
    wue_l_per_kwh: Annotated[float, Field(ge=0)]
    streams_per_gpu: Annotated[float, Field(ge=1)]  # concurrent decode streams per accelerator at its load
    served_precision: Annotated[DataType | None, BeforeValidator(_blank_to_none)] = (
        None  # None: the model's own catalog datatype
    )
    cached_input_share: Annotated[float, Field(ge=0, le=1)] = 0.0  # input tokens served from KV cache
    average_utilization_rate: Annotated[float, Field(gt=0, le=1)]
    # The range of each serving figure (low <= value <= high), from which estimates take their low and high.
    streams_per_gpu_low: Annotated[float, Field(ge=1)]
    streams_per_gpu_high: Annotated[float, Field(ge=1)]
    cached_input_share_low: Annotated[float, Field(ge=0, le=1)]
    cached_input_share_high: Annotated[float, Field(ge=0, le=1)]
    average_utilization_rate_low: Annotated[float, Field(gt=0, le=1)]
    average_utilization_rate_high: Annotated[float, Field(gt=0, le=1)]
    # The throughput the service publishes for its own fleet, per accelerator at its operating point, and the size of
    # the model it was measured on (total and active parameters): models of that size on the service's fleet are
    # estimated from it instead of the ML.ENERGY fit. Blank: not published. The prefill rate counts every input
    # token, KV-cache hits included (at the service's cached_input_share), as such rates are published.
    decode_tokens_per_s_per_gpu: OptPositive = None
    prefill_tokens_per_s_per_gpu: OptPositive = None
    throughput_total_params_b: OptPositive = None
    throughput_active_params_b: OptPositive = None

    @model_validator(mode="after")
    def _ranges_hold_their_values(self) -> ManagedServiceRow:
        for name in ("streams_per_gpu", "cached_input_share", "average_utilization_rate"):
            low, value, high = getattr(self, f"{name}_low"), getattr(self, name), getattr(self, f"{name}_high")
            if not low <= value <= high:
                raise ValueError(f"{name}: the range {low}-{high} does not hold the value {value}")
        published = self.decode_tokens_per_s_per_gpu is not None or self.prefill_tokens_per_s_per_gpu is not None
        measured_on = self.throughput_total_params_b is not None and self.throughput_active_params_b is not None
        if published and not measured_on:
            raise ValueError("a published throughput needs the model size it was measured on (throughput_*_params_b)")
        return self


class GridIntensityRow(Row):
    country: Country
    region: RegionCode = None
    year: Annotated[int, Field(ge=1990, le=2100)]
    gco2e_per_kwh: Annotated[float, Field(ge=0, le=2000)]


class GridWaterRow(Row):
    country: Country
    water_l_per_kwh: Annotated[float, Field(ge=0)]


class CalibrationRow(Row):
    name: str
    value: float
    unit: str
