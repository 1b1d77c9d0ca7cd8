"""Wire models of /model, /gpu and /node (the spec's `Model`, `GPU`, `Node` and their list responses)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from server.schemas.enums import DataType, SpecTask

PAGE_SIZE_MAX = 100
PAGE_MAX = 1_000_000


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    aliases: Annotated[list[str], Field(max_length=100)]
    name: str | None = None
    family: str | None = None
    hugging_face_path: str | None = None
    benchmark_model_id: str | None = None
    total_params_billions: float | None = None
    number_of_experts: int | None = None
    params_per_expert_billions: float | None = None
    tensor_parallelism: int | None = None
    datatype: DataType | None = None
    task: SpecTask | None = None
    training_usage_energy_kwh: float | None = None
    training_usage_emissions_kgco2e: float | None = None
    training_usage_water_l: float | None = None
    training_embodied_emissions_kgco2e: float | None = None
    training_embodied_water_l: float | None = None
    estimated_use_life_days: float | None = None
    estimated_requests_per_day: float | None = None
    fine_tuned_from_model_id: str | None = None
    customer_id: int
    created_at: datetime
    updated_at: datetime
    created_by: str


class GPU(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    max_power_w: float
    embodied_emissions_kgco2e: float
    embodied_water_mlh2o: float
    performance_ratio_to_h200: float
    ols_coefficient_gpu_count: float
    ols_intercept: float
    customer_id: int
    created_at: datetime
    updated_at: datetime
    created_by: str


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(pattern=r"^[a-z0-9-]+$", min_length=3, max_length=64)]
    cloud_id: str | None = None
    cloud_instance_id: str | None = None
    managed_service_id: str | None = None
    gpu_id: str
    gpu_count: Annotated[int, Field(ge=0, le=10000)]
    cpu_count: Annotated[int, Field(ge=1, le=10000)]
    idle_power_w_ex_gpu: Annotated[float, Field(ge=0, le=10000)] | None = None
    average_utilization_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    embodied_emissions_kgco2e_ex_gpu: Annotated[float, Field(ge=0, le=100000)] | None = None
    embodied_water_l_ex_gpu: Annotated[float, Field(ge=0, le=100000)] | None = None
    use_life_years: Annotated[float, Field(ge=1, le=30)] | None = None
    customer_id: int | None = None
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: Annotated[float, Strict(), Field(ge=-90, le=90)]
    lng: Annotated[float, Strict(), Field(ge=-180, le=180)]


DatacenterId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
DatacenterName = Annotated[str, Field(min_length=1, max_length=100)]
Pue = Annotated[float, Strict(), Field(ge=1, le=3)]
GridIntensity = Annotated[float, Strict(), Field(ge=0, le=2000)]


class Datacenter(BaseModel):
    """The spec's `Datacenter`, plus the place and on-site water an estimate needs (country, region_code, WUE)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="either custom or predefined")
    name: DatacenterName
    description: str | None = None
    location: Location | None = None
    embodied_water_l: Annotated[float, Field(ge=0)] | None = None
    embodied_emissions_kgco2e: Annotated[float, Field(ge=0)] | None = None
    pue: Annotated[float, Field(ge=1, le=3)] | None = None
    gco2e_per_kwh: Annotated[float, Field(ge=0, le=2000)] | None = None
    locked: bool = False
    country: str | None = None
    region_code: str | None = None
    wue_l_per_kwh: float | None = None
    cloud_id: str | None = None
    cloud_region: str | None = None
    it_capacity_mw: float | None = None
    use_life_years: float | None = None
    average_load: float | None = None
    customer_id: int | None = Field(None, description="shown to admins only")
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None


class DatacenterResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    datacenters: Annotated[list[Datacenter], Field(max_length=PAGE_SIZE_MAX)]


class ModelResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: Annotated[list[Model], Field(max_length=PAGE_SIZE_MAX)]


class GPUResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gpus: Annotated[list[GPU], Field(max_length=PAGE_SIZE_MAX)]


class NodeResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodes: Annotated[list[Node], Field(max_length=PAGE_SIZE_MAX)]


# --- list queries ---------------------------------------------------------------------------------------------


class PageQuery(BaseModel):
    page: Annotated[int, Field(ge=1, le=PAGE_MAX, description="1-based page")] = 1
    limit: Annotated[int, Field(ge=1, le=PAGE_SIZE_MAX, description="items per page, at most 100")] = PAGE_SIZE_MAX


class ModelFilters(BaseModel):
    family: str | None = None


class NodeFilters(BaseModel):
    service: str | None = None
    cloud: str | None = None
    custom: bool | None = None
    gpu: str | None = None
    instance: str | None = None


# Filters first, then the page (pydantic orders fields from the last base to the first).
class ModelListQuery(PageQuery, ModelFilters):
    pass


class NodeListQuery(PageQuery, NodeFilters):
    pass


# --- write requests (the spec's *CreateRequest / *UpdateRequest; unknown fields are refused) ------------------
# Numbers are strict: `true` is not 1 (schemathesis found booleans saved as figures).

# Bounds on what a saved entry may claim: far past any real model or part, yet small enough that every product
# the engine forms stays finite (schemathesis found 1e308 parameters overflowing the GPU count: a 500).
Positive = Annotated[float, Strict(), Field(gt=0, le=1e9)]
NonNegative = Annotated[float, Strict(), Field(ge=0, le=1e12)]
Params = Annotated[float, Strict(), Field(gt=0, le=100_000)]  # billions: up to 100 trillion parameters
Count = Annotated[int, Strict(), Field(ge=1, le=100_000)]
AtLeastAThousandth = Annotated[float, Strict(), Field(ge=0.001, le=1e9)]  # divisors: a day's requests, a life in days
Coefficient = Annotated[float, Strict(), Field(ge=-1e6, le=1e6)]
ModelId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^:\s]+$")]
Alias = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^:\s]+$")]


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelUpdate(Write):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    family: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    hugging_face_path: str | None = None
    benchmark_model_id: str | None = None
    fine_tuned_from_model_id: str | None = None
    estimated_use_life_days: AtLeastAThousandth | None = None
    estimated_requests_per_day: AtLeastAThousandth | None = None
    total_params_billions: Params | None = None
    number_of_experts: Count | None = None
    params_per_expert_billions: Params | None = None
    training_usage_energy_kwh: NonNegative | None = None
    training_usage_emissions_kgco2e: NonNegative | None = None
    training_usage_water_l: NonNegative | None = None
    training_embodied_emissions_kgco2e: NonNegative | None = None
    training_embodied_water_l: NonNegative | None = None
    # Beyond the spec's request (the spec's `Model` shows them): what an estimate needs to know.
    task: SpecTask | None = None
    datatype: DataType | None = None
    active_params_billions: Params | None = None
    tensor_parallelism: Count | None = None


class ModelCreate(ModelUpdate):
    id: ModelId
    aliases: Annotated[list[Alias], Field(max_length=100)] = []


class AliasRequest(Write):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"alias": "my-llama"}]})

    alias: Alias


class GPUUpdate(Write):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    max_power_w: Positive | None = None
    embodied_emissions_kgco2e: NonNegative | None = None
    embodied_water_mlh2o: NonNegative | None = None
    performance_ratio_to_h200: AtLeastAThousandth | None = None
    ols_coefficient_gpu_count: Coefficient | None = None
    ols_intercept: Coefficient | None = None
    # Beyond the spec's request: figures the engine otherwise assumes (server/catalog/custom.py).
    memory_gb: Annotated[float, Strict(), Field(ge=1, le=1e6)] | None = None
    idle_power_w: NonNegative | None = None
    peak_tflops_bf16: AtLeastAThousandth | None = None
    memory_bandwidth_tbps: AtLeastAThousandth | None = None


class GPUCreate(GPUUpdate):
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    max_power_w: Positive
    embodied_emissions_kgco2e: NonNegative
    embodied_water_mlh2o: NonNegative
    performance_ratio_to_h200: AtLeastAThousandth
    ols_coefficient_gpu_count: Coefficient
    ols_intercept: Coefficient


class NodeUpdate(Write):
    cloud_id: str | None = None
    cloud_instance_id: str | None = None
    managed_service_id: str | None = None
    gpu_id: str | None = None
    gpu_count: Annotated[int, Strict(), Field(ge=0, le=10000)] | None = None
    cpu_count: Annotated[int, Strict(), Field(ge=1, le=10000)] | None = None
    idle_power_w_ex_gpu: Annotated[float, Strict(), Field(ge=0, le=10000)] | None = None
    average_utilization_rate: Annotated[float, Strict(), Field(gt=0, le=1)] | None = None
    embodied_emissions_kgco2e_ex_gpu: Annotated[float, Strict(), Field(ge=0, le=100000)] | None = None
    embodied_water_l_ex_gpu: Annotated[float, Strict(), Field(ge=0, le=100000)] | None = None
    use_life_years: Annotated[float, Strict(), Field(ge=1, le=30)] | None = None


class NodeCreate(NodeUpdate):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"id": "my-node", "gpu_id": "h100", "gpu_count": 8, "cpu_count": 2}]},
    )

    id: Annotated[str, Field(pattern=r"^[a-z0-9-]+$", min_length=3, max_length=64)]
    gpu_id: str
    gpu_count: Annotated[int, Strict(), Field(ge=0, le=10000)]
    cpu_count: Annotated[int, Strict(), Field(ge=1, le=10000)]


class DatacenterUpdate(Write):
    name: DatacenterName | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    location: Location | None = None
    embodied_water_l: NonNegative | None = None
    embodied_emissions_kgco2e: NonNegative | None = None
    pue: Pue | None = None
    gco2e_per_kwh: GridIntensity | None = None
    locked: Annotated[bool, Strict()] | None = None
    # Beyond the spec's request: the place (for the grid, when gco2e_per_kwh is blank, and the water of the
    # electricity), the on-site water and the cloud whose figures fill what is left blank.
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    region_code: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    wue_l_per_kwh: Annotated[float, Strict(), Field(ge=0, le=20)] | None = None
    cloud_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    cloud_region: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    # What the embodied totals are shared over: the site's IT capacity, its life and its average load (share of
    # the capacity drawn). The totals need the capacity; life and load default to 20 years and 0.56
    # (server/engine/constants.py DATACENTER_USE_LIFE_YEARS, DATACENTER_AVERAGE_LOAD).
    it_capacity_mw: Annotated[float, Strict(), Field(gt=0, le=10000)] | None = None
    use_life_years: Annotated[float, Strict(), Field(gt=0, le=100)] | None = None
    average_load: Annotated[float, Strict(), Field(gt=0, le=1)] | None = None


class DatacenterCreate(DatacenterUpdate):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"id": "my-site", "name": "Our site", "pue": 1.5, "gco2e_per_kwh": 800, "country": "PL"}]
        },
    )

    id: DatacenterId
    name: DatacenterName
