"""Wire shapes shared by every endpoint."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ErrorDetails(BaseModel):
    reason: str | None = None
    field: str | None = None


class Error(BaseModel):
    """The spec's `Error` object."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = None
    message: str
    details: ErrorDetails | None = None


class StatusResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ready: bool
    reason: str | None = None
