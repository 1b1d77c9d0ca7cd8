"""Wire models of the batch endpoints (`/v1/files`, `/v1/batch`): our extension, not in the Scope3 spec."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.schemas.common import Error
from server.schemas.impact import ImpactMetrics
from server.schemas.sheets import Cell

MAX_POSTED_ROWS = 100_000
MAX_LISTED_OBJECTS = 1000
Status = Literal["queued", "running", "completed", "failed"]


class StoredFile(BaseModel):
    """An uploaded usage file, stored block by block."""

    model_config = ConfigDict(extra="forbid")

    file_id: str
    file_name: str
    bytes: Annotated[int, Field(ge=0)]
    lines: Annotated[int, Field(ge=0)]
    format: str = Field(description="the detected line format: impact rows, an OpenAI batch output, usage CSV...")
    created_at: str


class BatchRequest(BaseModel):
    """One of: `rows` (impact rows or usage lines), `file_id` (an uploaded file), or `table` (a sheet's range)."""

    model_config = ConfigDict(extra="forbid")

    rows: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_POSTED_ROWS)] | None = None
    file_id: str | None = None
    table: list[list[Cell]] | None = Field(None, description="a 2-D array, the header row first")
    first_row: Annotated[int, Field(ge=1, description="the sheet row number of the table's header")] = 1


class BatchObjectRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object_id: str
    status: Status


class BatchSubmitted(BaseModel):
    """A task as submitted: its id and (the first 1000 of) its objects' ids."""

    model_config = ConfigDict(extra="forbid")

    task_id: str
    status: Status
    total_items: Annotated[int, Field(ge=0)]
    file_id: str
    objects: Annotated[list[BatchObjectRef], Field(max_length=MAX_LISTED_OBJECTS)]
    objects_truncated: bool


class BatchCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queued: Annotated[int, Field(ge=0)]
    completed: Annotated[int, Field(ge=0)]
    failed: Annotated[int, Field(ge=0)]


class BatchResultLinks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jsonl: str
    csv: str


class BatchTask(BaseModel):
    """A task's status, counts and progress (0 to 1)."""

    model_config = ConfigDict(extra="forbid")

    task_id: str
    status: Status
    total_items: Annotated[int, Field(ge=0)]
    counts: BatchCounts
    progress: Annotated[float, Field(ge=0, le=1)]
    file_id: str
    created_at: str
    completed_at: str | None
    error: str | None
    # Scope3-Methodology-Version of the server that accepted the task, and those its blocks were computed with.
    methodology_version: str | None
    computed_with_methodology: list[str] | None = None
    ranges: bool = Field(False, description="submitted with ?ranges=true: each line's low and high are stored")
    results: BatchResultLinks


class BatchObject(BaseModel):
    """One line of a task: its status, and its impacts (completed) or its error (failed)."""

    model_config = ConfigDict(extra="forbid")

    object_id: str
    task_id: str
    line: Annotated[int, Field(ge=1)]
    status: Status
    key: str | None = Field(None, description="the line's request_id or custom_id, when it had one")
    inference_impact: ImpactMetrics | None = None
    training_impact: ImpactMetrics | None = None
    total_impact: ImpactMetrics | None = None
    error: Error | None = None


class SubmitQuery(BaseModel):
    ranges: bool | None = Field(
        None,
        description="also compute and store each line's low and high, for the results' energy_wh_low, "
        "energy_wh_high, ... metrics (about a quarter slower: bench/batch.py)",
    )


class ResultsQuery(BaseModel):
    format: Literal["jsonl", "csv"] | None = Field(
        None, description="jsonl (default) or csv; the Output-Format header or Accept may say it instead"
    )
    metric: str | None = Field(
        None,
        description="metrics to add to each line, as the Sheets functions take them: a name, a comma-separated "
        "list, `all`, or blank for energy_wh, gco2e and water_ml",
    )
