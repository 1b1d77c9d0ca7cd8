"""Cells as Google Sheets hands them to a custom function, turned into impact-row values.

Apps Script passes each cell as a JavaScript value, and our script sends it on as JSON: a number, a string (numbers
typed as text among them, often with spaces or thousands separators), a boolean, a date (a `Date`, which JSON
writes as its ISO string) or `""` for a blank cell. Each function here takes one such value and returns the
field's value, or raises `FieldError` naming the field and the reason.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from server.catalog.names import close_matches, did_you_mean
from server.catalog.store import Catalog
from server.schemas.enums import ROW_TASKS
from server.schemas.impact import COUNT_FIELDS, IMAGE_FIELDS, NUMBER_FIELDS, without_thousands

# Day 0 of the serial numbers Sheets stores dates as (a date cell read as a number): 30 December 1899, the
# Lotus 1-2-3 epoch Sheets shares with Excel (Google Docs Editors Help, "DATEVALUE").
SHEETS_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)
LAST_SERIAL = 2_958_465  # 9999-12-31

TIMES_SIGN = "\u00d7"  # what some people type between width and height
_IMAGE_SIZE = re.compile(r"(\d+)\s*[xX*" + TIMES_SIGN + r"]\s*(\d+)")
_TASK_KEYS = {task.replace("-", ""): task for task in sorted(ROW_TASKS)}


class FieldError(Exception):
    """A cell that cannot be the value its field needs."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = f"{field}: {message}"


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value).upper() if isinstance(value, bool) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def number(value: Any, field: str) -> float:
    """`1200`, `"1200"`, `" 1,200 "`, `"1.2e3"` are all 1200.0; `TRUE`, `"abc"`, `"1,5"` and `"inf"` are errors."""
    if type(value) is int:  # the usual cell, first
        return float(value)
    found = math.nan
    if type(value) is float:
        found = value
    elif isinstance(value, str):
        plain = without_thousands(value.strip().replace("\u00a0", "").replace(" ", ""))
        if plain is not None:
            with contextlib.suppress(ValueError):
                found = float(plain)
    if math.isfinite(found):
        return found
    raise FieldError(field, f"expected a number, got {_shown(value)}")


def count(value: Any, field: str) -> int:
    """A whole number of tokens, images, frames...: averages (`512.4` tokens per request) round to the nearest."""
    return value if type(value) is int else round(number(value, field))


def text(value: Any, field: str) -> str:
    if isinstance(value, bool):
        raise FieldError(field, f"expected text, got {_shown(value)}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def task(value: Any, field: str = "task") -> str:
    """`Text generation`, `text_generation` and `TEXT-GENERATION` all mean `text-generation`."""
    spelled = text(value, field)
    found = _TASK_KEYS.get(re.sub(r"[^a-z0-9]", "", spelled.lower()))
    if found is None:
        hint = did_you_mean(close_matches(spelled, _TASK_KEYS))
        raise FieldError(field, f"unknown task {spelled!r}{hint}")
    return found


def image_sizes(value: Any, field: str) -> tuple[str, ...]:
    """`1024x1024`, `1024 x 1024` (or with a times sign) or `1024x1024, 512x512`: one size per image."""
    if isinstance(value, list | tuple):
        return tuple(size for item in value for size in image_sizes(item, field))
    spelled = text(value, field)
    if spelled.startswith("["):  # a JSON array, as BigQuery may pass a list
        try:
            listed = orjson.loads(spelled)
        except orjson.JSONDecodeError:
            listed = None
        if isinstance(listed, list):
            return image_sizes(listed, field)
    sizes = tuple(f"{width}x{height}" for width, height in _IMAGE_SIZE.findall(spelled))  # hashable: lines group
    leftover = _IMAGE_SIZE.sub("", spelled).strip(" ,;")
    if not sizes or leftover:
        raise FieldError(field, f"expected sizes like 1024x1024 (comma-separated for several), got {_shown(value)}")
    return sizes


def timestamp(value: Any, field: str) -> datetime | str | float:
    """A date serial (a number, or number text, up to 9999-12-31) as its time; other text, and larger numbers, as
    they are, for the row's validation."""
    if isinstance(value, bool):
        raise FieldError(field, f"expected a date, got {_shown(value)}")
    if isinstance(value, str):
        try:
            value = number(value, field)
        except FieldError:
            return text(value, field)
    if isinstance(value, int | float):
        if 0 < value < LAST_SERIAL + 1:
            return SHEETS_EPOCH + timedelta(days=float(value))
        if value <= 0:
            raise FieldError(field, f"expected a date, got {_shown(value)}")
        return value  # a unix time: the row's validation reads it
    return text(value, field)


_COUNTRY_REGION = re.compile(r"^([A-Za-z]{2})[-_ ]([A-Za-z]{2})$")


def location(value: Any, field: str = "location") -> dict[str, str]:
    """A country (`FR`), a country and region (`US-NY`), a cloud region (`us-east-1`) or `cloud:region`."""
    spelled = text(value, field)
    if len(spelled) == 2 and spelled.isalpha():
        return {"country": spelled.upper()}
    pair = _COUNTRY_REGION.match(spelled)
    if pair:
        return {"country": pair.group(1).upper(), "region": pair.group(2).upper()}
    if ":" in spelled:
        cloud, region = spelled.split(":", 1)
        return {"cloud_id": cloud.strip(), "cloud_region": region.strip()}
    return {"cloud_region": spelled}


class Places:
    """`hosting` spellings resolved against the caller's catalog, memoised for one request."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._hosting: dict[str, dict[str, str] | FieldError] = {}

    def hosting(self, value: Any, field: str = "hosting") -> dict[str, str]:
        """A managed service (`aws-bedrock`), a node id, or `cloud:instance` (`aws:p4d.24xlarge`)."""
        spelled = text(value, field)
        found = self._hosting.get(spelled)
        if found is None:
            found = self._find_hosting(spelled, field)
            self._hosting[spelled] = found
        if isinstance(found, FieldError):
            raise found
        return found

    def _find_hosting(self, spelled: str, field: str) -> dict[str, str] | FieldError:
        catalog = self.catalog
        if catalog.find_service(spelled) is not None:
            return {"managed_service_id": spelled}
        if catalog.find_node(spelled) is not None:
            return {"node_id": spelled}
        if ":" in spelled:
            cloud, instance = spelled.split(":", 1)
            if catalog.find_instance(cloud, instance) is not None:
                return {"cloud_id": cloud, "cloud_instance_id": instance}
        hint = did_you_mean(close_matches(spelled, catalog.service_keys) + catalog.suggest_nodes(spelled)[:2])
        return FieldError(field, f"{spelled!r} is not a managed service, node or cloud:instance{hint}")

    def location(self, value: Any, field: str = "location") -> dict[str, str]:
        """`location()`, and a datacenter's id (`aws-us-east-1`, an account's `our-site`): a country or
        country-region spelling stays one, then a datacenter the caller sees wins over a cloud region's name."""
        place = location(value, field)
        if "cloud_region" in place and "cloud_id" not in place:
            found = self.catalog.find_datacenter(place["cloud_region"])
            if found is not None:
                return {"datacenter_id": found.row.id}
        return place


FieldRule = Callable[[Any, str], Any]
# The rule of each row field; a field not named here is text.
RULES: dict[str, FieldRule] = {
    **dict.fromkeys(COUNT_FIELDS, count),
    **dict.fromkeys(NUMBER_FIELDS, number),
    **dict.fromkeys(IMAGE_FIELDS, image_sizes),
    "utc_datetime": timestamp,
    "task": task,
}


def field_value(field: str, value: Any) -> Any:
    """One row field's value by its rule (`RULES`, else text); `FieldError` when it cannot be one."""
    rule: FieldRule = RULES.get(field, text)
    return rule(value, field)
