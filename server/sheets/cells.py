"""Cells as Google Sheets hands them to a custom function, turned into impact-row values.

Apps Script passes each cell as a JavaScript value, and our script sends it on as JSON: a number, a string (numbers
typed as text among them, often with spaces or thousands separators), a boolean, a date (a `Date`, which JSON
writes as its ISO string) or `""` for a blank cell. Each function here takes one such value and returns the
field's value, or raises `CellError` naming the field and the reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from server.catalog.names import close_matches, did_you_mean
from server.schemas.enums import ROW_TASKS
from server.schemas.impact import without_thousands

# Day 0 of the serial numbers Sheets stores dates as (a date cell read as a number): 30 December 1899, the
# Lotus 1-2-3 epoch Sheets shares with Excel (Google Docs Editors Help, "DATEVALUE").
SHEETS_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)

TIMES_SIGN = "\u00d7"  # what some people type between width and height
_IMAGE_SIZE = re.compile(r"(\d+)\s*[xX*" + TIMES_SIGN + r"]\s*(\d+)")
_TASK_KEYS = {task.replace("-", ""): task for task in sorted(ROW_TASKS)}


class CellError(Exception):
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
    """`1200`, `"1200"`, `" 1,200 "`, `"1.2e3"` are all 1200.0; `TRUE` and `"abc"` are errors."""
    if type(value) is int or type(value) is float:  # the usual cell, first
        return float(value)
    if isinstance(value, str):
        plain = without_thousands(value.strip().replace("\u00a0", "").replace(" ", ""))
        if plain is not None:
            try:
                return float(plain)
            except ValueError:
                pass
    raise CellError(field, f"expected a number, got {_shown(value)}")


def count(value: Any, field: str) -> int:
    """A whole number of tokens, images, frames...: averages (`512.4` tokens per request) round to the nearest."""
    found = number(value, field)
    if found != found or found in (float("inf"), float("-inf")):
        raise CellError(field, f"expected a number, got {_shown(value)}")
    return round(found)


def text(value: Any, field: str) -> str:
    if isinstance(value, bool):
        raise CellError(field, f"expected text, got {_shown(value)}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def task(value: Any, field: str = "task") -> str:
    """`Text generation`, `text_generation` and `TEXT-GENERATION` all mean `text-generation`."""
    spelled = text(value, field)
    found = _TASK_KEYS.get(re.sub(r"[^a-z0-9]", "", spelled.lower()))
    if found is None:
        hint = did_you_mean(close_matches(spelled, _TASK_KEYS))
        raise CellError(field, f"unknown task {spelled!r}{hint}")
    return found


def image_sizes(value: Any, field: str) -> tuple[str, ...]:
    """`1024x1024`, `1024 x 1024` (or with a times sign) or `1024x1024, 512x512`: one size per image."""
    spelled = text(value, field)
    sizes = tuple(f"{width}x{height}" for width, height in _IMAGE_SIZE.findall(spelled))  # hashable: lines group
    leftover = _IMAGE_SIZE.sub("", spelled).strip(" ,;")
    if not sizes or leftover:
        raise CellError(field, f"expected sizes like 1024x1024 (comma-separated for several), got {_shown(value)}")
    return sizes


def timestamp(value: Any, field: str) -> datetime | str:
    """A date cell: its ISO text, other date text (left to the row's validation), or a Sheets serial number."""
    if isinstance(value, bool):
        raise CellError(field, f"expected a date, got {_shown(value)}")
    if isinstance(value, int | float):
        if not 0 < value < 2_958_466:  # 9999-12-31 is serial 2,958,465
            raise CellError(field, f"expected a date, got {_shown(value)}")
        return SHEETS_EPOCH + timedelta(days=float(value))
    return text(value, field)
