"""Request plumbing shared by the blueprints: JSON bodies, query flags, pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from flask import request

from server.accounts.auth import current_view
from server.catalog.store import Catalog
from server.errors import BadRequest, UnsupportedMediaType
from server.pipeline.run import Pipeline
from server.schemas.catalog import PAGE_MAX, PAGE_SIZE_MAX

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def current_catalog() -> Catalog:
    """The catalog the caller sees: global entries and their own."""
    return current_view().catalog


def current_pipeline() -> Pipeline:
    return current_view().pipeline


def require_json_body() -> bytes:
    """The raw body of a JSON request; 415 for another media type, 400 for an empty body."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(f"send the body as application/json, not {request.mimetype or 'nothing'}")
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise BadRequest("the request body is empty", reason="empty_body")
    return raw


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}", reason="json_invalid") from exc


def query_flag(name: str) -> bool | None:
    value = request.args.get(name)
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise BadRequest(f"{name}: expected true or false, got {value!r}", field=name)


def query_int(name: str, default: int, *, low: int, high: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise BadRequest(f"{name}: expected a whole number, got {value!r}", field=name) from exc
    if not low <= number <= high:
        raise BadRequest(f"{name}: must be between {low} and {high}", field=name)
    return number


def paginate(items: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """A page of at most 100 items (`?page=`, `?limit=`), with `X-Total-Count` and a `Link` to the next page."""
    limit = query_int("limit", PAGE_SIZE_MAX, low=1, high=PAGE_SIZE_MAX)
    page = query_int("page", 1, low=1, high=PAGE_MAX)
    start = (page - 1) * limit
    headers = {"X-Total-Count": str(len(items))}
    if start + limit < len(items):
        args = {**request.args.to_dict(), "page": str(page + 1), "limit": str(limit)}
        headers["Link"] = f'<{request.base_url}?{urlencode(args)}>; rel="next"'
    return items[start : start + limit], headers
