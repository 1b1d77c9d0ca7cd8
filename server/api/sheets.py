"""The Google Sheets endpoints: what `apps_script/` calls.

`POST /v1/sheets/impact` takes a custom function's arguments as Sheets passed them (`SCOPE3_IMPACT`,
`SCOPE3_IMPACT_TABLE`, `SCOPE3_COMPARE`) and answers the 2-D array the function returns: one row per line,
numbers for a good line, blanks for a blank one, `#ERROR ...` text for a bad one, so one bad line never blanks
the block. Lines run through the same pipeline as `/v1/impact`.

`GET /v1/sheets/catalog/<tab>` answers the cells of the "Models", "GPUs", "Nodes" or "Datacenters" tab the caller
sees, in the columns the sync job writes (`server.sync.columns`), for the add-on's "Refresh Models tab".
"""

from __future__ import annotations

from flask import Blueprint, Response
from pydantic import ValidationError

from server.api.http import current_catalog, current_pipeline, parse_json, require_json_body
from server.api.spec import Reply, documented
from server.errors import BadRequest, NotFound, from_validation_error, json_response
from server.pipeline.fields import Places
from server.schemas.sheets import (
    SheetsExplainResponse,
    SheetsImpactRequest,
    SheetsImpactResponse,
    SheetsTableResponse,
)
from server.sheets.compare import compare, compare_columns, compare_lines
from server.sheets.explain import explain, headlines, one_line
from server.sheets.lines import Line, function_lines, table_lines
from server.sheets.metrics import metric_columns
from server.sheets.run import estimate_lines
from server.sync.columns import TABS, table
from server.sync.entries import global_entries

bp = Blueprint("sheets", __name__)


def _parse(raw: bytes) -> SheetsImpactRequest:
    try:  # orjson, then validation of the envelope only: cells stay as parsed (twice as fast on big ranges)
        return SheetsImpactRequest.model_validate(parse_json(raw))
    except ValidationError as exc:
        raise from_validation_error(exc) from exc


def _lines(body: SheetsImpactRequest, places: Places) -> list[Line]:
    if body.function == "SCOPE3_IMPACT_TABLE":
        if body.table is None:
            raise BadRequest("table: required for SCOPE3_IMPACT_TABLE (a header row, then data rows)", field="table")
        return table_lines(body.table, places)
    if body.args is None:
        raise BadRequest("args: required for SCOPE3_IMPACT (model, input_tokens, output_tokens, ...)", field="args")
    return function_lines(body.args, places)


@bp.post("/v1/sheets/impact")
@documented(
    "Google Sheets: a custom function's arguments in, its 2-D array out (10,000 lines)",
    body=SheetsImpactRequest,
    replies={200: Reply("One row per line", SheetsImpactResponse)},
)
def sheets_impact() -> Response:
    body = _parse(require_json_body())
    columns = metric_columns(body.metric)
    if body.function == "SCOPE3_COMPARE":
        return _compare(body, columns)
    lines = _lines(body, Places(current_catalog()))
    table_form = body.function == "SCOPE3_IMPACT_TABLE"
    values, failed = estimate_lines(current_pipeline(), lines, columns, table_form=table_form)
    return json_response({"columns": list(columns), "values": values, "lines": len(values), "errors": failed})


def _compare(body: SheetsImpactRequest, metrics: tuple[str, ...]) -> Response:
    if body.args is None:
        raise BadRequest(
            "args: required for SCOPE3_COMPARE (model, input_tokens, output_tokens, alt_model, ...)", field="args"
        )
    columns = compare_columns(metrics)
    base, alt = compare_lines(body.args, Places(current_catalog()))
    values, failed = compare(current_pipeline(), base, alt, metrics)
    return json_response({"columns": list(columns), "values": values, "lines": len(values), "errors": failed})


@bp.post("/v1/sheets/explain")
@documented(
    "Google Sheets: what one line's estimate is made of (the Explain sidebar)",
    body=SheetsImpactRequest,
    replies={200: Reply("The line's figures in parts that add up, with their sources", SheetsExplainResponse)},
)
def sheets_explain() -> Response:
    body = _parse(require_json_body())
    if body.function == "SCOPE3_COMPARE":
        raise BadRequest(
            "function: explain a SCOPE3_IMPACT line or a SCOPE3_IMPACT_TABLE row (for a comparison, explain each side)",
            field="function",
        )
    columns = metric_columns(body.metric)
    line = one_line(_lines(body, Places(current_catalog())))
    explained = explain(current_pipeline(), line)
    return json_response({"columns": list(columns), "headlines": headlines(columns), **explained})


@bp.get("/v1/sheets/catalog/<tab>")
@documented(
    "Google Sheets: the cells of a catalog tab",
    path={"tab": "models, gpus, nodes or datacenters"},
    examples={"tab": "models"},
    replies={200: Reply("Header row, then entries", SheetsTableResponse)},
    errors=(404,),
)
def sheets_catalog(tab: str) -> Response:
    spec = next((spec for spec in TABS if spec.title.lower() == tab.lower()), None)
    if spec is None:
        names = ", ".join(spec.title.lower() for spec in TABS)
        raise NotFound(f"no catalog tab {tab!r}; choose {names}", field="tab")
    entries = global_entries(current_catalog()).for_tab(spec.title)
    return json_response({"values": table(spec.columns, entries)})
