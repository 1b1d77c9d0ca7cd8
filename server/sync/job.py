"""`sync_catalog`: write catalog entries into the tabs "Models", "GPUs", "Nodes" and "Datacenters" of one spreadsheet.

The job owns those three tabs (edits there are overwritten) and never touches another tab. One run is:

1. `GET spreadsheets/{key}` (tab properties and basic filters only);
2. `GET values:batchGet` of the three tabs, when any of them exists (`UNFORMATTED_VALUE`, so numbers come back
   as numbers and compare with what would be written);
3. only if a tab is missing, differs, or lost its layout: one `spreadsheets:batchUpdate` that adds missing tabs
   (`addSheet`), sizes each changed tab's grid to exactly its header + rows + columns (which drops stale rows and
   columns: no separate clear), freezes and bolds the header row and sets a basic filter over the table;
4. then one `values:batchUpdate` (`valueInputOption=RAW`: numbers stay numbers, text is never parsed as a
   formula or a date) with every changed tab's full table.

A first run is 3 requests, a run with nothing changed 2, whatever the catalog's size. Every request goes through
`Retrier` (bounded back-off on 429/5xx, a per-request timeout, one deadline for the run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import gspread

from server.sync.columns import TABS, Cell, TabSpec, normalise, table
from server.sync.entries import CatalogEntries
from server.sync.errors import SyncError
from server.sync.retry import Retrier, RetryPolicy

HEADER_ROWS = 1
META_FIELDS = "sheets(properties,basicFilter)"


@dataclass(frozen=True, slots=True)
class TabReport:
    title: str
    rows: int  # data rows, header not counted
    columns: int
    created: bool  # the tab did not exist
    written: bool  # its values were rewritten (False: they were already identical)
    formatted: bool  # its grid size, frozen header, bold header and filter were (re)applied


@dataclass(frozen=True, slots=True)
class SyncReport:
    spreadsheet_key: str
    tabs: tuple[TabReport, ...]
    requests: int  # HTTP requests made, retries included
    seconds: float

    @property
    def changed(self) -> bool:
        return any(tab.written or tab.formatted for tab in self.tabs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        lines = [f"spreadsheet {self.spreadsheet_key}: {self.requests} requests in {self.seconds:.1f}s"]
        for tab in self.tabs:
            state = "created" if tab.created else "rewritten" if tab.written else "unchanged"
            if tab.formatted and not tab.written:
                state = "reformatted"
            lines.append(f"  {tab.title}: {tab.rows} rows x {tab.columns} columns, {state}")
        return "\n".join(lines)


def a1_tab(title: str) -> str:
    """A tab's name as an A1 range prefix ('It''s' for It's)."""
    return "'" + title.replace("'", "''") + "'"


def _filter_range(sheet_id: int, rows: int, columns: int) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": 0,
        "endRowIndex": rows,
        "startColumnIndex": 0,
        "endColumnIndex": columns,
    }


def _layout_ok(sheet: Mapping[str, Any], rows: int, columns: int) -> bool:
    """Grid sized to the table, header frozen, a basic filter over exactly the table."""
    props = sheet.get("properties", {})
    grid = props.get("gridProperties", {})
    want = _filter_range(props.get("sheetId", 0), rows, columns)
    have = (sheet.get("basicFilter") or {}).get("range")
    return (
        grid.get("rowCount") == rows
        and grid.get("columnCount") == columns
        and grid.get("frozenRowCount", 0) == HEADER_ROWS
        and have is not None
        and all(have.get(k, 0 if k.startswith("start") else None) == v for k, v in want.items())
    )


def _format_requests(sheet_id: int, rows: int, columns: int, *, created: bool) -> list[dict[str, Any]]:
    grid = {"rowCount": rows, "columnCount": columns, "frozenRowCount": HEADER_ROWS}
    resize: list[dict[str, Any]] = []
    if not created:  # a new tab gets its size and frozen row in addSheet
        resize.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": grid},
                    "fields": "gridProperties.rowCount,gridProperties.columnCount,gridProperties.frozenRowCount",
                }
            }
        )
    return [
        *resize,
        {
            "repeatCell": {
                "range": {
                    "sheetId": sheet_id,
                    "startRowIndex": 0,
                    "endRowIndex": HEADER_ROWS,
                    "startColumnIndex": 0,
                    "endColumnIndex": columns,
                },
                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                "fields": "userEnteredFormat.textFormat.bold",
            }
        },
        {"setBasicFilter": {"filter": {"range": _filter_range(sheet_id, rows, columns)}}},
    ]


def _free_ids(used: set[int], count: int) -> list[int]:
    ids: list[int] = []
    candidate = 1
    while len(ids) < count:
        if candidate not in used:
            ids.append(candidate)
        candidate += 1
    return ids


def sync_catalog(
    client: gspread.Client,
    spreadsheet_key: str,
    entries: CatalogEntries,
    *,
    policy: RetryPolicy | None = None,
    tabs: Sequence[TabSpec] = TABS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SyncReport:
    """Write `entries` into the spreadsheet's catalog tabs; raise `SyncError` (or a subclass) on failure.

    `entries` is everything written: the caller decides what the spreadsheet's owner may see.
    """
    http = client.http_client
    saved_timeout = http.timeout
    retrier = Retrier(policy or RetryPolicy(), spreadsheet_key, set_timeout=http.set_timeout, sleep=sleep, clock=clock)
    try:
        return _sync(http, spreadsheet_key, entries, tabs, retrier)
    finally:
        http.set_timeout(saved_timeout)


def _sync(
    http: gspread.HTTPClient,
    key: str,
    entries: CatalogEntries,
    tabs: Sequence[TabSpec],
    retrier: Retrier,
) -> SyncReport:
    tables: dict[str, list[list[Cell]]] = {}
    for spec in tabs:
        tab_entries = entries.for_tab(spec.title)
        for index, entry in enumerate(tab_entries):
            if not isinstance(entry, Mapping) or not entry.get("id"):
                raise SyncError(f"{spec.title} entry {index}: expected a wire dict with an id", spreadsheet_key=key)
        tables[spec.title] = table(spec.columns, tab_entries)

    meta = retrier.call(
        "reading the spreadsheet's tabs",
        lambda: http.fetch_sheet_metadata(key, params={"includeGridData": "false", "fields": META_FIELDS}),
    )
    sheets = {s["properties"]["title"]: s for s in meta.get("sheets", [])}
    for spec in tabs:
        kind = sheets.get(spec.title, {}).get("properties", {}).get("sheetType", "GRID")
        if kind != "GRID":
            raise SyncError(
                f"tab {spec.title!r} is a {kind.lower()} sheet, not a grid: rename or delete it", spreadsheet_key=key
            )

    present = [spec.title for spec in tabs if spec.title in sheets]
    current: dict[str, list[list[Any]]] = {}
    if present:
        got = retrier.call(
            "reading the catalog tabs' values",
            lambda: http.values_batch_get(
                key,
                [a1_tab(title) for title in present],
                params={"valueRenderOption": "UNFORMATTED_VALUE", "majorDimension": "ROWS"},
            ),
        )
        for title, value_range in zip(present, got.get("valueRanges", []), strict=True):
            current[title] = value_range.get("values", [])

    new_ids = iter(_free_ids({s["properties"].get("sheetId", 0) for s in sheets.values()}, len(tabs) - len(present)))
    requests: list[dict[str, Any]] = []
    writes: list[dict[str, Any]] = []
    reports: list[TabReport] = []
    for spec in tabs:
        values = tables[spec.title]
        rows, columns = max(len(values), HEADER_ROWS + 1), len(spec.columns)  # a frozen row needs a row below it
        existing = sheets.get(spec.title)
        created = existing is None
        if existing is None:
            sheet_id = next(new_ids)
            requests.append(
                {
                    "addSheet": {
                        "properties": {
                            "sheetId": sheet_id,
                            "title": spec.title,
                            "gridProperties": {"rowCount": rows, "columnCount": columns, "frozenRowCount": HEADER_ROWS},
                        }
                    }
                }
            )
        else:
            sheet_id = existing["properties"].get("sheetId", 0)
        written = created or normalise(current.get(spec.title, [])) != normalise(values)
        formatted = written or existing is None or not _layout_ok(existing, rows, columns)
        if formatted:
            requests += _format_requests(sheet_id, rows, columns, created=created)
        if written:
            writes.append({"range": f"{a1_tab(spec.title)}!A1", "majorDimension": "ROWS", "values": values})
        reports.append(TabReport(spec.title, len(values) - HEADER_ROWS, columns, created, written, formatted))

    if requests:
        retrier.call("creating and formatting the catalog tabs", lambda: http.batch_update(key, {"requests": requests}))
    if writes:
        retrier.call(
            "writing the catalog tabs' values",
            lambda: http.values_batch_update(key, {"valueInputOption": "RAW", "data": writes}),
        )
    return SyncReport(key, tuple(reports), retrier.requests, round(retrier.elapsed(), 3))
