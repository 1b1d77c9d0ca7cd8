"""A line that fails `ImpactRow` validation, said in one short sentence for its cell."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

# Where SCOPE3_IMPACT's arguments land among the row's fields: an error names the argument the user typed.
ARGUMENT_OF_FIELD = {
    "model_id": "model",
    "managed_service_id": "hosting",
    "node_id": "hosting",
    "cloud_id": "hosting",
    "cloud_instance_id": "hosting",
    "country": "location",
    "region": "location",
    "cloud_region": "location",
}


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(error: ErrorDetails, got: Any) -> str:
    """What is wrong with the value, without the field's name."""
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "greater_than_equal":
        return f"must be {_number(ctx['ge'])} or more, got {_number(got)}"
    if kind == "less_than_equal":
        return f"must be at most {_number(ctx['le'])}, got {_number(got)}"
    if kind in ("string_too_long", "string_too_short", "string_pattern_mismatch"):
        return f"{got!r} is not valid here"
    return str(error["msg"])


def validation_message(exc: ValidationError, line: dict[str, Any], *, table_form: bool) -> str:
    """`field: reason` for the first problem, naming the argument the user typed (or the table's column)."""
    first = exc.errors(include_url=False)[0]
    field = str(first["loc"][0]) if first["loc"] else "row"
    name = field if table_form else ARGUMENT_OF_FIELD.get(field, field)
    return f"{name}: {describe(first, line.get(field, first.get('input')))}"
