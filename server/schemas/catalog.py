"""Wire models of /model, /gpu and /node (the spec's `Model`, `GPU`, `Node` and their list responses)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from server.schemas.enums import DataType, SpecTask

PAGE_SIZE_MAX = 100


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


class ModelResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: Annotated[list[Model], Field(max_length=PAGE_SIZE_MAX)]


class GPUResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gpus: Annotated[list[GPU], Field(max_length=PAGE_SIZE_MAX)]


class NodeResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodes: Annotated[list[Node], Field(max_length=PAGE_SIZE_MAX)]
