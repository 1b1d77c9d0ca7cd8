"""POST /: the BigQuery remote function (reference spec `ImpactBigQueryRequest`).

Every call is one impact row, arguments in the spec's order. A call that cannot be estimated gets an error
reply; the envelope gets 400 `{"errorMessage"}` only when it is unusable. BigQuery retries any status other
than 200 and 400, so nothing here may answer 500.

A function created with `OPTIONS (user_defined_context = [("ranges", "true")])` gets each reply's low and high
too, under `total_impact_low` and `total_impact_high` (the same five metrics as the reply itself).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Blueprint, Response, g, request
from pydantic import ValidationError

from server.api.http import FALSE_WORDS, TRUE_WORDS, current_pipeline, parse_json
from server.api.spec import Reply, documented
from server.errors import ApiError, json_response
from server.pipeline.fields import FieldError, field_value, is_blank
from server.pipeline.metrics import wire
from server.pipeline.run import Pipeline
from server.schemas.bigquery import (
    MAX_ARGUMENTS,
    MAX_CALLS,
    MIN_ARGUMENTS,
    SHORT_CALL_LENGTH,
    BigQueryError,
    BigQueryRequest,
    BigQueryResponse,
)
from server.schemas.impact import ImpactRow

log = logging.getLogger("server.bigquery")
bp = Blueprint("bigquery", __name__)

# The spec's argument order (`ImpactBigQueryRequest.calls.items`). The last four are optional.
CALL_ARGUMENTS = (
    "model_id",
    "model_family",
    "model_name",
    "model_hugging_face_path",
    "utc_datetime",
    "node_id",
    "cloud_id",
    "cloud_region",
    "cloud_instance_id",
    "managed_service_id",
    "country",
    "region",
    "task",
    "input_tokens",
    "output_tokens",
    "input_images",
    "output_images",
    "output_video_resolution",
    "output_video_frames",
    "input_audio_seconds",
    "input_steps",
)
# The short form: the reference spec's example call sends 9 arguments, ["gpt-4-turbo", "2024-03-15T10:30:00Z",
# "us-central1", "US", "CA", "text-generation", 100, 50, null], while its text names the 21 above. Read as the
# full order with the fields such a call leaves out dropped: the example's values fall on model_id,
# request_time, cloud_region, country, region, task, input_tokens and output_tokens in that order, and the ninth
# is the next field of the full order, input_images.
SHORT_CALL_ARGUMENTS = (
    "model_id",
    "utc_datetime",
    "cloud_region",
    "country",
    "region",
    "task",
    "input_tokens",
    "output_tokens",
    "input_images",
)
_EXPECTED_FORMS = (
    f"{MIN_ARGUMENTS} to {MAX_ARGUMENTS} arguments in the order {', '.join(CALL_ARGUMENTS)}, or the reference's "
    f"short form of {SHORT_CALL_LENGTH}: {', '.join(SHORT_CALL_ARGUMENTS)}"
)
ERROR_MESSAGE_MAX = 900  # BigQuery shows errorMessage; keep it under 1 KB


class EnvelopeError(Exception):
    pass


def call_to_row(call: list[Any]) -> dict[str, Any]:
    """The call's arguments as row fields, each by its field's rule (`server.pipeline.fields`, as a Sheets cell);
    `FieldError` for the first that cannot be one."""
    row: dict[str, Any] = {}
    names = SHORT_CALL_ARGUMENTS if len(call) == SHORT_CALL_LENGTH else CALL_ARGUMENTS
    for name, value in zip(names, call, strict=False):
        if not is_blank(value):
            row[name] = field_value(name, value)
    return row


def error_reply(message: str, field: str | None = None) -> str:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    return orjson.dumps(body).decode()


def reply_for(pipeline: Pipeline, call: list[Any], *, ranges: bool = False) -> str:
    try:
        row = ImpactRow.model_validate(call_to_row(call))
    except FieldError as exc:
        return error_reply(exc.message, exc.field)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"])
        return error_reply(f"{field}: {first['msg']}", field)
    result = pipeline.run_row(row, ranges=ranges)
    if result.error is not None:
        return error_reply(result.error.message, result.error.field)
    reply: dict[str, Any] = wire(result.total)
    if ranges:
        reply["total_impact_low"] = wire(result.total_low)
        reply["total_impact_high"] = wire(result.total_high)
    return orjson.dumps(reply).decode()


def wants_ranges(body: dict[str, Any]) -> bool:
    """`userDefinedContext.ranges`: BigQuery passes the function's context values as strings."""
    value = (body.get("userDefinedContext") or {}).get("ranges")
    if value is None:
        return False
    lowered = str(value).strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise EnvelopeError(f"userDefinedContext.ranges: expected true or false, got {value!r}")


def envelope_calls(body: Any) -> list[list[Any]]:
    if not isinstance(body, dict):
        raise EnvelopeError("the body must be a JSON object with 'calls'")
    calls = body.get("calls")
    if not isinstance(calls, list):
        raise EnvelopeError("missing required field 'calls' (a list of argument lists)")
    if len(calls) > MAX_CALLS:
        raise EnvelopeError(f"at most {MAX_CALLS} calls per request; set max_batching_rows <= {MAX_CALLS}")
    context = body.get("userDefinedContext")
    if context is not None and not isinstance(context, dict):
        raise EnvelopeError("'userDefinedContext' must be an object")
    for index, call in enumerate(calls):
        if not isinstance(call, list) or not (
            MIN_ARGUMENTS <= len(call) <= MAX_ARGUMENTS or len(call) == SHORT_CALL_LENGTH
        ):
            given = f"{len(call)} arguments" if isinstance(call, list) else "not a list"
            raise EnvelopeError(f"calls[{index}]: {given}; expected {_EXPECTED_FORMS}")
    return calls


def bad_envelope(message: str) -> Response:
    return json_response({"errorMessage": message[:ERROR_MESSAGE_MAX]}, 400)


@bp.post("/")
@documented(
    "BigQuery remote function: one impact row per call",
    body=BigQueryRequest,
    replies={200: Reply("One reply per call", BigQueryResponse), 400: Reply("Unusable envelope", BigQueryError)},
)
def bigquery() -> Response:
    try:
        body = g.json_body if "json_body" in g else parse_json(request.get_data(cache=False))
        calls = envelope_calls(body)
        ranges = wants_ranges(body)
        pipeline = current_pipeline()
        return json_response({"replies": [reply_for(pipeline, call, ranges=ranges) for call in calls]})
    except EnvelopeError as exc:
        return bad_envelope(f"Invalid request format: {exc}")
    except ApiError as exc:
        return bad_envelope(exc.message)
    except Exception:  # BigQuery would retry a 500 twenty times; a bug will not fix itself
        log.exception("bigquery call failed")
        return bad_envelope("internal error while estimating; this request will not succeed on retry")
