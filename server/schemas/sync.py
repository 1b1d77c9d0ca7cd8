"""Wire model of `GET /v1/sync/catalog` (App Engine cron): one result per spreadsheet of `SYNC_SPREADSHEETS`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TabResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    rows: int
    columns: int
    created: bool
    written: bool
    formatted: bool


class SpreadsheetResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spreadsheet_key: str
    ok: bool
    error: str | None = None
    tabs: list[TabResult] | None = None
    requests: int | None = None
    seconds: float | None = None


class SyncResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    spreadsheets: list[SpreadsheetResult]
    message: str | None = None
