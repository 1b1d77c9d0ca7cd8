"""The line formats of batch usage files: detect a file's format from its first record, map each record to row fields.

A JSONL file is one of three formats, told apart by its first line:

- `impact-rows`: our `/v1/impact` rows, flat or in the nested `model{}` / `hosting{}` form; passed through as-is.
- `openai-batch-output`: OpenAI batch output lines (`custom_id`, `response.body` with `model`, `usage`, `created`).
- `provider-usage`: the Exosphere seed's `{"model": "provider:model", "usage": {...}, "key": ...}` lines.

A CSV file's header names impact-row fields. This module only maps fields: the upload code validates every row
with `ImpactRow`, so a wrong value (a bad country code, a negative count) is reported there, not here.

Choices:

- A first line that is an OpenAI batch *request* (`method`, `url`, `body`, no `response`) is a `FormatError`: the
  input file carries no usage, and a million identical line errors would hide the one mistake.
- A CSV row whose cells are all empty raises `BlankRow`, a `LineError` with the message "blank row": the upload
  code may skip it, as it skips blank JSONL lines, or report it; both are its call. Cells beyond the header are
  an error unless empty (spreadsheets export trailing empty cells).
- CSV cells become fields by the rules Sheets cells and BigQuery arguments follow (`server.pipeline.fields`):
  thousands separators only in groups of three ("1,200"), so the decimal comma of "1,5" is an error rather than
  fifteen; counts round to the nearest whole ("512.4" is 512); non-finite numbers are errors; image sizes as
  "1024x1024" or "1024*1024", comma- or semicolon-separated; a date serial is a date. Text fields stay strings.
- No task is set for provider-usage lines: the catalog's task of the model applies. Their `price_factor` prices
  the request and says nothing of its impact, so it is dropped. A line whose `status` says it is unfinished
  ("submitted", "processing", …) or failed is a `LineError`: its usage is not final.
- OpenAI lines: `url` (when present) decides the task; else the response's `object` ("list" is an embeddings
  response); else a usage without output tokens is an embedding, one with them a text generation.
- `LineError.key` carries the line's own id when known, so a failed line can still be matched to its request.

Speed (CPython 3.11.7, orjson 3.13, one core of a 2-vCPU Xeon VM shared with other jobs): converting 200,000
realistic OpenAI batch output lines (chat completions, ~910 bytes each, parse included) took 1.27 s in the least
loaded runs, about 155,000 lines/s, and up to 2.2 s (90,000 lines/s) under load; orjson's parse is half of it.
"""

from __future__ import annotations

import difflib
import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from server.pipeline.fields import FieldError, field_value
from server.schemas.impact import FLAT_FIELDS, header_field

# Every flat field of an impact row; `hosting` is an object and has no place in a CSV cell.
CSV_FIELDS = FLAT_FIELDS

# The OpenAI batch endpoints (`url` of a request line), with and without Azure's missing `/v1`.
_TASK_BY_ENDPOINT = {
    "/chat/completions": "text-generation",
    "/completions": "text-generation",
    "/responses": "text-generation",
    "/embeddings": "text-embedding",
}
_GENERATION_OBJECTS = frozenset({"chat.completion", "text_completion", "response"})
_UNFINISHED_STATUSES = frozenset({"submitted", "pending", "queued", "processing", "running", "in_progress"})
_FAILED_STATUSES = frozenset({"failed", "error", "cancelled", "canceled", "expired"})

_UTF8_BOM = b"\xef\xbb\xbf"  # begins the first line of files saved by some Windows tools; orjson refuses it
_MESSAGE_CHARS = 100
_VALUE_CHARS = 30
_SECONDS_Z = tuple(f"{second:02d}Z" for second in range(60))


class LineFormat(StrEnum):
    IMPACT_ROWS = "impact-rows"
    OPENAI_BATCH = "openai-batch-output"
    PROVIDER_USAGE = "provider-usage"
    CSV = "csv"


class FormatError(Exception):
    """The whole file is unusable; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LineError(Exception):
    """One record cannot become a row; `key` is the record's own id when it has one."""

    def __init__(self, message: str, field: str | None = None, *, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.key = key


class BlankRow(LineError):
    """A CSV row with no value in any cell."""

    def __init__(self) -> None:
        super().__init__("blank row")


@dataclass(frozen=True, slots=True)
class Converted:
    row: dict[str, Any]
    key: str | None


def _clip(text: str, limit: int = _MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def detect_jsonl(first_line: bytes) -> LineFormat:
    try:
        data = orjson.loads(first_line.removeprefix(_UTF8_BOM))
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"the first line is not JSON ({_clip(str(exc))})") from None
    if not isinstance(data, dict):
        raise FormatError(f"the first line is {_json_kind(data)}, not a JSON object: put one object on each line")
    if "response" in data or "custom_id" in data:
        if "response" not in data and "error" not in data and "url" in data and "body" in data:
            raise FormatError("the first line is a batch request, not its result: upload the batch's output file")
        return LineFormat.OPENAI_BATCH
    if isinstance(data.get("model"), str) and isinstance(data.get("usage"), dict):
        return LineFormat.PROVIDER_USAGE
    return LineFormat.IMPACT_ROWS


def convert_jsonl(fmt: LineFormat, line: bytes) -> Converted:
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:
            data = orjson.loads(line.removeprefix(_UTF8_BOM))
        except orjson.JSONDecodeError as exc:
            raise LineError(f"not a JSON object: {_clip(str(exc))}") from None
    if type(data) is not dict:
        raise LineError(f"not a JSON object: {_json_kind(data)}")
    converter = _JSONL_CONVERTERS.get(fmt)
    if converter is None:
        raise ValueError(f"{fmt} is not a JSONL format")
    return converter(data)


def _impact_row(line: dict[str, Any]) -> Converted:
    request_id = line.get("request_id")
    return Converted(line, request_id if type(request_id) is str else None)


def _failure(error: object, *, with_code: bool) -> str:
    """The reason of an error object (OpenAI's or the seed's): its message, led by its code when asked."""
    if isinstance(error, str) and error:
        return error
    if not isinstance(error, dict):
        return "no reason given"
    message, code = error.get("message"), error.get("code")
    code = code if isinstance(code, str) and code else None
    if isinstance(message, str) and message:
        return f"{code}: {message}" if with_code and code else message
    return code or "no reason given"


@functools.lru_cache(maxsize=4096)
def _minute_iso(minute: int) -> str:
    """The "YYYY-MM-DDTHH:MM:" of a unix minute; cached because strftime costs more than the rest of a line."""
    return time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))


def _utc_iso(seconds: object, field: str, key: str | None) -> str:
    if type(seconds) is int or type(seconds) is float:
        try:
            minute, second = divmod(seconds if type(seconds) is int else math.floor(seconds), 60)
            return _minute_iso(minute) + _SECONDS_Z[second]
        except (OverflowError, OSError, ValueError):
            pass
    raise LineError(f"{field} is not a unix time: {_clip(repr(seconds), _VALUE_CHARS)}", field, key=key)


def _either(usage: dict[str, Any], name: str, other_name: str) -> Any:
    """A usage count under its name, or under the other API's name for it (chat vs Responses API)."""
    found = usage.get(name)
    return usage.get(other_name) if found is None else found


def _find(layers: tuple[dict[str, Any], ...], name: str) -> Any:
    for layer in layers:
        value = layer.get(name)
        if value is not None:
            return value
    return None


def _openai_batch_row(line: dict[str, Any]) -> Converted:
    custom_id = line.get("custom_id")
    key = custom_id if type(custom_id) is str else None
    error = line.get("error")
    if error is not None:
        raise LineError(f"the request failed ({_clip(_failure(error, with_code=True))})", "error", key=key)
    # Where the fields sit: response.body (batch output), the response itself, or the line; innermost first.
    layers: tuple[dict[str, Any], ...] = (line,)
    response = line.get("response")
    if type(response) is dict:
        body = response.get("body")
        status = response.get("status_code")
        if type(status) is int and not 200 <= status < 300:
            reason = f"status {status}"
            if type(body) is dict and body.get("error") is not None:
                reason += f": {_failure(body['error'], with_code=False)}"
            raise LineError(f"the request failed ({_clip(reason)})", "response.status_code", key=key)
        layers = (body, response, line) if type(body) is dict else (response, line)
    inner = layers[0]  # read directly: the other layers are looked at only when it lacks a field
    usage = inner.get("usage")
    if usage is None:
        usage = _find(layers, "usage")
    model = inner.get("model")
    if model is None:
        model = _find(layers, "model")
    kind = inner.get("object")
    if kind is None:
        kind = _find(layers, "object")
    created_field = "created"
    created = inner.get(created_field)
    if created is None:
        created = _find(layers, created_field)
        if created is None:
            created_field = "created_at"  # the Responses API's name
            created = _find(layers, created_field)
    if type(usage) is not dict:
        raise LineError("no usage in this line (usage.prompt_tokens)", "usage", key=key)
    input_tokens = _either(usage, "prompt_tokens", "input_tokens")
    if input_tokens is None:
        raise LineError("usage has no prompt_tokens", "usage.prompt_tokens", key=key)
    output_tokens = _either(usage, "completion_tokens", "output_tokens")
    if type(model) is not str or not model:
        raise LineError("no model in this line (response.body.model)", "model", key=key)
    url = line.get("url")
    task = _TASK_BY_ENDPOINT.get(url.removeprefix("/v1")) if type(url) is str else None
    if task is None:
        generation = type(kind) is str and kind in _GENERATION_OBJECTS
        embedding = kind == "list" or (output_tokens is None and not generation)
        task = "text-embedding" if embedding else "text-generation"
    row: dict[str, Any] = {"model_id": model, "task": task, "input_tokens": input_tokens}
    if output_tokens is not None:
        row["output_tokens"] = output_tokens
    if created is not None:
        row["utc_datetime"] = _utc_iso(created, created_field, key)
    return Converted(row, key)


def _provider_usage_row(line: dict[str, Any]) -> Converted:
    key = line.get("key")
    if type(key) is not str:
        key = line.get("object_id")
        if type(key) is not str:
            key = None
    error = line.get("error")
    if error is not None:
        raise LineError(f"the request failed ({_clip(_failure(error, with_code=True))})", "error", key=key)
    status = line.get("status")
    if type(status) is str:
        if status in _UNFINISHED_STATUSES:
            raise LineError(f"not finished yet (status {status})", "status", key=key)
        if status in _FAILED_STATUSES:
            raise LineError(f"the request failed (status {status})", "status", key=key)
    model = line.get("model")
    if type(model) is not str or not model:
        raise LineError("no model in this line", "model", key=key)
    usage = line.get("usage")
    if type(usage) is not dict:
        raise LineError("no usage in this line (usage.input_tokens)", "usage", key=key)
    input_tokens = _either(usage, "input_tokens", "prompt_tokens")
    if input_tokens is None:
        raise LineError("usage has no input_tokens", "usage.input_tokens", key=key)
    row: dict[str, Any] = {"model_id": model, "input_tokens": input_tokens}
    output_tokens = _either(usage, "output_tokens", "completion_tokens")
    if output_tokens is not None:
        row["output_tokens"] = output_tokens
    return Converted(row, key)


_JSONL_CONVERTERS: dict[LineFormat, Callable[[dict[str, Any]], Converted]] = {
    LineFormat.IMPACT_ROWS: _impact_row,
    LineFormat.OPENAI_BATCH: _openai_batch_row,
    LineFormat.PROVIDER_USAGE: _provider_usage_row,
}


def _unknown_column(cell: str, name: str) -> str:
    close = difflib.get_close_matches(name, sorted(CSV_FIELDS), n=2)
    return f"'{_clip(cell.strip(), _VALUE_CHARS)}'" + (f" (did you mean {' or '.join(close)}?)" if close else "")


def detect_csv(header: list[str]) -> list[str]:
    """The header as impact-row field names, one per column; "" for a column with a blank header cell (ignored)."""
    fields = [header_field(cell) for cell in header]
    named = [(cell, name) for cell, name in zip(header, fields, strict=True) if name]
    if not named:
        raise FormatError("the header row is empty: name each column after an impact-row field such as model_id")
    unknown = [_unknown_column(cell, name) for cell, name in named if name not in CSV_FIELDS]
    if len(unknown) == len(named) and not any("did you mean" in column for column in unknown):
        raise FormatError(
            "the first row is not a header naming impact-row fields (such as model_id, input_tokens, output_tokens)"
        )
    if unknown:
        listed = ", ".join(unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
        raise FormatError(f"unknown column{'s' if len(unknown) > 1 else ''} {listed}")
    seen: dict[str, str] = {}
    for cell, name in named:
        if name in seen:
            raise FormatError(f"columns '{seen[name].strip()}' and '{cell.strip()}' both name {name}")
        seen[name] = cell
    return fields


def convert_csv(fields: list[str], record: list[str]) -> Converted:
    """One CSV row under `fields` (from `detect_csv`): empty cells are absent, each other cell by its field's rule
    (`server.pipeline.fields`, as a Sheets cell)."""
    if len(record) > len(fields) and any(cell.strip() for cell in record[len(fields) :]):
        raise LineError(f"this row has {len(record)} cells; the header has {len(fields)}")
    row: dict[str, Any] = {}
    for name, cell in zip(fields, record, strict=False):
        if not name:
            continue
        value = cell.strip()
        if not value:
            continue
        try:
            row[name] = field_value(name, value)
        except FieldError as exc:
            raise LineError(exc.message, name) from None
    if not row:
        if any(cell.strip() for cell in record):
            raise LineError("no value under a named column")
        raise BlankRow()
    return Converted(row, row.get("request_id"))
