"""POST /v1/impact: the spec's impact endpoint."""

from __future__ import annotations

from flask import Blueprint, Response
from pydantic import ValidationError

from server.api.http import current_pipeline, query_flag, require_json_body
from server.api.spec import Reply, documented
from server.errors import BadRequest, from_validation_error, json_response
from server.pipeline.run import run_impact
from server.schemas.impact import MAX_ROWS, ImpactQuery, ImpactRequest, ImpactResponse

bp = Blueprint("impact", __name__)


@bp.post("/v1/impact")
@documented(
    "Impact metrics for up to 1000 inference rows",
    query=ImpactQuery,
    body=ImpactRequest,
    replies={200: Reply("Impact metrics", ImpactResponse)},
)
def impact() -> Response:
    raw = require_json_body()
    debug = bool(query_flag("debug"))
    ranges = bool(query_flag("ranges"))
    try:
        body = ImpactRequest.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise BadRequest(f"malformed JSON: {first['msg']}", reason="json_invalid") from exc
        if first["type"] == "too_long" and tuple(first["loc"]) == ("rows",):
            raise BadRequest(f"rows: at most {MAX_ROWS} rows per request", field="rows", reason="too_long") from exc
        raise from_validation_error(exc) from exc
    return json_response(run_impact(current_pipeline(), body.rows, debug=debug, ranges=ranges))
