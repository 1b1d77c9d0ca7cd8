"""Wire models of the Sheets endpoints (`POST /v1/sheets/impact`): our extension, not in the Scope3 spec."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Cell = str | int | float | bool | None


class SheetsImpactRequest(BaseModel):
    """What a custom function received, as Sheets passed it: scalars, or ranges as 2-D arrays."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "args": {
                        "model": [["gpt-4o"], ["llama_31_8b"]],
                        "input_tokens": [[1200], ["300"]],
                        "output_tokens": 80,
                    }
                },
                {
                    "function": "SCOPE3_IMPACT_TABLE",
                    "table": [["model", "input_tokens"], ["gpt-4o", 10]],
                    "metric": "all",
                },
            ]
        },
    )

    function: Literal["SCOPE3_IMPACT", "SCOPE3_IMPACT_TABLE", "SCOPE3_COMPARE"] = "SCOPE3_IMPACT"
    args: dict[str, Any] | None = Field(
        None,
        description="SCOPE3_IMPACT's arguments by name: model, input_tokens, output_tokens, task, hosting, location; "
        "SCOPE3_COMPARE's: model, input_tokens, output_tokens, alt_model, alt_hosting, alt_location",
    )
    table: list[Any] | None = Field(None, description="SCOPE3_IMPACT_TABLE's range: a header row, then data rows")
    metric: Any = Field(
        None, description="blank (energy_wh, gco2e, water_ml), one name, a comma-separated list, or all"
    )


class SheetsImpactResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str]
    values: list[list[Cell]] = Field(description="one row per line: numbers, blanks for a blank line, or '#ERROR ...'")
    lines: int
    errors: Annotated[int, Field(ge=0)]


class SheetsTableResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: list[list[Cell]] = Field(description="a header row of field names, then one row per entry")


class ExplainedPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    value: float
    share: float = Field(description="of the metric's value")


class ExplainedMetric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: str
    value: float
    low: float | None
    high: float | None
    parts: list[ExplainedPart] = Field(description="they add up to value")


class SheetsExplainResponse(BaseModel):
    """One line's estimate laid out: what the add-on's "Explain this estimate" sidebar shows."""

    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(description="the columns the same call's `metric` gives, left to right")
    headlines: dict[str, str] = Field(description="each column's headline figure: energy_wh, gco2e or water_ml")
    row: dict[str, Any] = Field(description="the impact-row fields the line was read as")
    methodology_version: str
    model: dict[str, Any]
    hardware: dict[str, Any]
    place: dict[str, Any]
    metrics: dict[str, ExplainedMetric] = Field(description="energy_wh, gco2e and water_ml")
    sources: list[dict[str, str]]
    steps: list[str]
