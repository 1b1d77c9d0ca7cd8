"""Wire models of POST /v1/impact (reference/scope3-aiapi.openapi.yaml `ImpactRequest`, `ImpactResponse`).

Requests also take the first quick start's nested `model{}` / `hosting{}` form and the documented legacy names
(`requestTime`, `input_audio_duration_s`); `ImpactRow` folds them into the flat fields before validation.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from server.schemas.catalog import Model, Node
from server.schemas.common import Error
from server.schemas.enums import RowTask

MAX_ROWS = 1000

ImageSize = Annotated[str, Field(pattern=r"^\d{1,4}x\d{1,4}$", examples=["1024x1024"])]


def image_dimensions(size: str) -> tuple[int, int]:
    """(width, height) of a valid `ImageSize` such as `1024x768`."""
    width, height = size.split("x")
    return int(width), int(height)


Code2 = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$", examples=["US"])]
Name = Annotated[str, Field(min_length=1, max_length=256)]

LEGACY_NAMES = {"requestTime": "utc_datetime", "input_audio_duration_s": "input_audio_seconds"}
MAX_COUNT = 100_000_000  # the most tokens, frames... one row may count
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
NESTED_MODEL_KEYS = {
    "id": "model_id",
    "family": "model_family",
    "name": "model_name",
    "model": "model_name",
    "hugging_face_path": "model_hugging_face_path",
}
NESTED_HOSTING_KEYS = {
    "service": "managed_service_id",
    "cloud": "cloud_id",
    "instance": "cloud_instance_id",
    "node": "node_id",
    "cloud_region": "cloud_region",
    "country": "country",
    "region": "region",
}


class CustomHardware(BaseModel):
    """The quick start's dedicated hardware node, given inline under `hosting`."""

    model_config = ConfigDict(extra="forbid")

    gpu: Name | None = None
    gpu_count: Annotated[int, Field(ge=0, le=10000)] | None = None
    cpu_count: Annotated[int, Field(ge=1, le=10000)] | None = None
    idle_power_w_ex_gpu: Annotated[float, Field(ge=0, le=10000)] | None = None
    # At least 1 %: the idle capacity charged to a request grows as 1/utilisation.
    average_utilization_rate: Annotated[float, Field(ge=0.01, le=1)] | None = None
    utilization_pct: Annotated[float, Field(ge=0.01, le=100)] | None = None
    embodied_emissions_kgco2e_ex_gpu: Annotated[float, Field(ge=0, le=100000)] | None = None
    embodied_water_l_ex_gpu: Annotated[float, Field(ge=0, le=100000)] | None = None
    use_life_years: Annotated[float, Field(ge=1, le=30)] | None = None

    def utilization(self) -> float | None:
        if self.average_utilization_rate is not None:
            return self.average_utilization_rate
        if self.utilization_pct is not None:
            # The quick start writes `utilization_pct: 0.8`: a fraction despite the name; 1-100 is a percentage.
            return self.utilization_pct if self.utilization_pct <= 1 else self.utilization_pct / 100.0
        return None


def _fold_legacy(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for old, new in LEGACY_NAMES.items():
        if old in out:
            value = out.pop(old)
            out.setdefault(new, value)
    model = out.pop("model", None)
    if isinstance(model, dict):
        for key, value in model.items():
            out.setdefault(NESTED_MODEL_KEYS.get(key, f"model.{key}"), value)
    elif model is not None:
        out["model"] = model  # not an object: let validation name the field
    hosting = out.pop("hosting", None)
    if isinstance(hosting, dict):
        hardware = {}
        for key, value in hosting.items():
            flat = NESTED_HOSTING_KEYS.get(key)
            if flat is None:
                hardware[key] = value
            else:
                out.setdefault(flat, value)
        if hardware:
            out["hosting"] = hardware
    elif hosting is not None:
        out["hosting"] = hosting
    return out


class ImpactRow(BaseModel):
    """One inference to estimate. Fields as the spec's `ImpactRow`."""

    model_config = ConfigDict(extra="forbid")

    utc_datetime: datetime | None = Field(None, description="The start time of the request in UTC")
    request_duration_ms: float | None = None
    processing_duration_ms: float | None = None
    request_cost: float | None = None
    currency: str | None = None
    integration_source: str | None = None
    environment: str | None = None
    session_id: str | None = None
    trace_id: str | None = None
    request_id: str | None = None
    client_id: str | None = None
    project_id: str | None = None
    application_id: str | None = None
    model_id: Name | None = Field(None, examples=["llama_31_8b"])
    model_family: Name | None = Field(None, examples=["llama"])
    model_name: Name | None = Field(None, examples=["LLaMa v3.1 8B"])
    model_hugging_face_path: Name | None = Field(None, examples=["meta-llama/Llama-3.1-8B"])
    model_used_id: str | None = None
    base_url: str | None = None
    cloud_region: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(None, examples=["us-east-1"])
    managed_service_id: Annotated[str, Field(min_length=3, max_length=64)] | None = Field(
        None, examples=["aws-bedrock"]
    )
    cloud_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(None, examples=["aws"])
    cloud_instance_id: Name | None = Field(None, examples=["p4d.24xlarge"])
    node_id: Name | None = Field(None, examples=["aws:p4d.24xlarge"])
    datacenter_id: str | None = None
    country: Code2 | None = None
    region: Code2 | None = None
    task: RowTask | None = None
    input_tokens: Count | None = None
    input_audio_seconds: Annotated[float, Field(ge=0, le=100_000)] | None = None
    output_tokens: Count | None = None
    input_images: Annotated[list[ImageSize], Field(max_length=100)] | None = None
    input_steps: Annotated[int, Field(ge=1, le=10_000)] | None = None
    output_images: Annotated[list[ImageSize], Field(max_length=100)] | None = None
    output_audio_seconds: Annotated[float, Field(ge=0, le=100_000)] | None = None
    output_audio_tokens: Count | None = None
    output_video_frames: Count | None = None
    output_video_resolution: Annotated[int, Field(ge=1, le=10_000)] | None = None
    hosting: CustomHardware | None = Field(
        None, description="Inline dedicated hardware (the nested quick-start form); not in the flat spec"
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_documented_spellings(cls, data: Any) -> Any:
        if isinstance(data, dict) and (
            "model" in data or "hosting" in data or "requestTime" in data or "input_audio_duration_s" in data
        ):
            return _fold_legacy(data)
        return data


# Fields of a row that describe the request without changing its estimate: accepted, validated and carried
# through (batch results and task objects keep `request_id` as the line's `key`), never silently read as figures.
# Every other field changes the estimate or makes it the row's error (tests/test_field_audit.py holds both lists
# to `ImpactRow.model_fields`; a new field must join one of them). README "What a row's fields do" lists them.
METADATA_FIELDS: dict[str, str] = {
    "request_duration_ms": "the caller's wall time: energy comes from the work (tokens, images), not the wait",
    "processing_duration_ms": "the provider's processing time, as above",
    "request_cost": "what the request cost; not an input to energy",
    "currency": "the currency of request_cost",
    "integration_source": "which SDK or integration sent the row",
    "environment": "the caller's environment label (production, staging)",
    "session_id": "the caller's session",
    "trace_id": "the caller's trace",
    "request_id": "the caller's request id (a batch line's key)",
    "client_id": "the caller's client",
    "project_id": "the caller's project",
    "application_id": "the caller's application",
    "model_used_id": "the provider's own spelling of the model that answered; the estimate uses model_id",
    "base_url": "the endpoint the caller used; the hosting fields say where it ran",
}


# What a table's header row or a CSV file's columns may name: every flat field (`hosting` is an object).
FLAT_FIELDS = frozenset(ImpactRow.model_fields) - {"hosting"}
HEADER_ALIASES = {"model": "model_id"} | {old.lower(): new for old, new in LEGACY_NAMES.items()}
_HEADER_SEPARATORS = re.compile(r"[\s\-]+")


def header_field(cell: str) -> str:
    """A header cell as the field it names: case, spaces, hyphens and a byte-order mark aside; `model` is
    `model_id` and the legacy names their current ones. Unknown names come back as normalised."""
    name = _HEADER_SEPARATORS.sub("_", cell.replace("\ufeff", "").strip().lower())
    return HEADER_ALIASES.get(name, name)


# Token counts are checked per line by the entry points that group lines sharing everything but their counts.
TOKEN_FIELDS = ("input_tokens", "output_tokens")
_TOKEN_CHECKS = {name: TypeAdapter(ImpactRow.model_fields[name].rebuild_annotation()) for name in TOKEN_FIELDS}


def token_count(name: str, value: Any) -> int | None:
    """One token count by the row's own rule: a plain int in range as it is, anything else through the field's
    validator (`"12"` -> 12); ValidationError when it cannot be one."""
    if value is None or (type(value) is int and 0 <= value <= MAX_COUNT):
        return value  # type: ignore[no-any-return,unused-ignore]
    found: int | None = _TOKEN_CHECKS[name].validate_python(value)
    return found


# Row fields by the value they hold, for the formats that carry numbers as text (Sheets cells, CSV files);
# tests/test_batch_formats.py holds these equal to the field types above.
COUNT_FIELDS = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "input_steps",
        "output_audio_tokens",
        "output_video_frames",
        "output_video_resolution",
    }
)
NUMBER_FIELDS = frozenset(
    {"request_duration_ms", "processing_duration_ms", "request_cost", "input_audio_seconds", "output_audio_seconds"}
)
IMAGE_FIELDS = frozenset({"input_images", "output_images"})
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def without_thousands(text: str) -> str | None:
    """Number text with its thousands separators dropped (`"1,200.5"` -> `"1200.5"`); None when its commas are
    not groups of three (`"1,5"` may be a decimal comma: refused rather than read as 15)."""
    if "," not in text:
        return text
    return text.replace(",", "") if _GROUPED_NUMBER.fullmatch(text) else None


class ImpactRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: Annotated[list[ImpactRow], Field(max_length=MAX_ROWS)]


class ImpactQuery(BaseModel):
    debug: bool | None = Field(None, description="Return debug information")
    ranges: bool | None = Field(
        None,
        description="Add each row's and the totals' low and high (total_impact_low/high, total_*_low/high): every "
        "ranged catalog figure at the end that lowers, then raises, the estimate. Not in the Scope3 spec: "
        "its client rejects the extra fields, so they come only when asked for.",
    )


class ImpactMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid")

    usage_energy_wh: float
    usage_emissions_gco2e: float
    usage_water_ml: float
    embodied_emissions_gco2e: float
    embodied_water_ml: float


class PredictionStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    duration_ms: float
    inferences: int


class GridMix(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    region: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    gco2e_per_kwh: Annotated[float, Field(ge=0, le=2000)]


class DebugInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: Model | None = None
    hardware_node: Node | None = None
    grid_mix: GridMix | None = None
    steps: Annotated[list[PredictionStep], Field(max_length=100)] | None = None


class ModeledRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inference_impact: ImpactMetrics | None = None
    training_impact: ImpactMetrics | None = None
    fine_tuning_impact: ImpactMetrics | None = None
    total_impact: ImpactMetrics
    total_impact_low: ImpactMetrics | None = None  # ?ranges=true only
    total_impact_high: ImpactMetrics | None = None
    debug: DebugInfo | None = None
    error: Error | None = None


class ImpactResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: Annotated[list[ModeledRow], Field(max_length=MAX_ROWS)]
    total_energy_wh: float | None = None
    total_gco2e: float | None = None
    total_mlh2o: float | None = None
    # ?ranges=true only
    total_energy_wh_low: float | None = None
    total_energy_wh_high: float | None = None
    total_gco2e_low: float | None = None
    total_gco2e_high: float | None = None
    total_mlh2o_low: float | None = None
    total_mlh2o_high: float | None = None
    has_errors: bool
