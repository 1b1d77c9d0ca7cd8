"""Wire models of the BigQuery remote function (`POST /`, the reference spec's `ImpactBigQueryRequest`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

MIN_ARGUMENTS, MAX_ARGUMENTS, MAX_CALLS = 17, 21, 1000
# The reference's own example call has 9 arguments (server/api/bigquery.py SHORT_CALL_ARGUMENTS).
SHORT_CALL_LENGTH = 9

Call = Annotated[list[Any], Field(min_length=SHORT_CALL_LENGTH, max_length=MAX_ARGUMENTS)]


class BigQueryRequest(BaseModel):
    """What BigQuery sends: one argument list per call, in the spec's argument order."""

    requestId: str | None = None  # BigQuery's names, camelCase
    caller: str | None = None
    sessionUser: str | None = None
    userDefinedContext: dict[str, Any] | None = None
    calls: Annotated[list[Call], Field(max_length=MAX_CALLS)]


class BigQueryResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    replies: list[str] = Field(description="per call, a JSON string: the row's total impact, or its error")


class BigQueryError(BaseModel):
    """An unusable envelope (BigQuery shows the message; it retries any status but 200 and 400)."""

    model_config = ConfigDict(extra="forbid")

    errorMessage: str
