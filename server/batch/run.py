"""One block of a batch file through the pipeline: records in, one compact result per record out.

Records are converted by their file's format (`server.batch.formats`), validated as `ImpactRow`s and estimated by
the pipeline every entry point uses. Rows that differ only in their token counts (most of an OpenAI batch output
file: a few models, many requests) are validated and resolved once (`server.pipeline.run.estimate_groups`); each
still gets exactly what `/v1/impact` gives it.

A result is stored compactly, as a JSON array: `[line, key, inference, training]` with the two impacts as objects
of their components by name (`server.pipeline.metrics.stored`: a task stays readable when a component is added),
or `[line, key, null, null, error]` with the wire `Error` object. `results.py` turns them into the documented JSONL
and CSV lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from server.batch import formats
from server.pipeline.errors import RowError, first_problem
from server.pipeline.metrics import stored
from server.pipeline.run import Counts, Pipeline, estimate_groups
from server.schemas.impact import TOKEN_FIELDS, ImpactRow, token_count

# Checked per line and kept out of a group's key: the counts, and the time, of which the estimate uses only the
# year (the grid's year: `server.pipeline.resolve.resolve_key`). Lines of one group share everything else.
PER_LINE_FIELDS = frozenset({*TOKEN_FIELDS, "utc_datetime"})
_TIME_CHECK = TypeAdapter(ImpactRow.model_fields["utc_datetime"].rebuild_annotation())
# A record the server stored for a line it already knew to be bad (a sheet's cell that is not a number): the line's
# result is that error. Only `POST /v1/batch` with a sheet's table writes it.
LINE_ERROR_FIELD = "__error__"


def _error(code: str, message: str, field: str | None = None, reason: str | None = None) -> dict[str, Any]:
    return RowError(code, message, field, reason).to_wire()


def _validation_error(exc: ValidationError) -> dict[str, Any]:
    """The row's first problem, said as `/v1/impact` says a bad field (`input_tokens: ...`)."""
    problem = first_problem(exc)
    return _error("INVALID_ROW", problem.message, problem.field, problem.reason)


def _counts(row: dict[str, Any]) -> Counts | dict[str, Any]:
    """The row's token counts, checked by the row's own rules, or the wire error."""
    name = "input_tokens"
    try:
        input_tokens = token_count(name, row.get(name))
        name = "output_tokens"
        return input_tokens, token_count(name, row.get(name))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        return _error("INVALID_ROW", f"{name}: {first['msg']}", name, first["type"])


def convert_records(
    records: Sequence[bytes], *, fmt: str, csv_fields: list[str] | None
) -> list[formats.Converted | formats.LineError]:
    line_format = formats.LineFormat(fmt)
    out: list[formats.Converted | formats.LineError] = []
    for record in records:
        try:
            if line_format is formats.LineFormat.CSV:
                assert csv_fields is not None
                out.append(formats.convert_csv(csv_fields, orjson.loads(record)))
            else:
                out.append(formats.convert_jsonl(line_format, record))
        except formats.LineError as exc:
            out.append(exc)
    return out


def estimate_block(
    pipeline: Pipeline,
    records: Sequence[bytes],
    *,
    fmt: str,
    csv_fields: list[str] | None,
    first_line: int,
    ranges: bool = False,
) -> tuple[list[bytes], int, int]:
    """(one result per record, in order; completed count; failed count). With `ranges`, a completed line also
    holds its inference at the low and the high end of its ranges."""
    converted = convert_records(records, fmt=fmt, csv_fields=csv_fields)
    results: list[Any] = [None] * len(converted)
    groups: dict[Any, tuple[dict[str, Any], list[int], list[Counts]]] = {}
    times: dict[str, datetime] = {}
    for index, item in enumerate(converted):
        line = first_line + index
        if isinstance(item, formats.LineError):
            results[index] = [line, item.key, None, None, _error("INVALID_LINE", item.message, item.field)]
            continue
        row = item.row
        if LINE_ERROR_FIELD in row:
            results[index] = [line, item.key, None, None, _error("INVALID_CELL", str(row[LINE_ERROR_FIELD]))]
            continue
        counts = _counts(row)
        if isinstance(counts, dict):
            results[index] = [line, item.key, None, None, counts]
            continue
        when = row.get("utc_datetime")
        if when is not None:
            try:
                seen = times.get(when) if isinstance(when, str) else None
                if seen is None:
                    seen = _TIME_CHECK.validate_python(when)
                    if isinstance(when, str):
                        times[when] = seen  # a file's lines share their minute or second: parse each once
                when = seen
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                error = _error("INVALID_ROW", f"utc_datetime: {first['msg']}", "utc_datetime", first["type"])
                results[index] = [line, item.key, None, None, error]
                continue
        fields_of_group = row.copy()
        for name in PER_LINE_FIELDS:
            fields_of_group.pop(name, None)
        rest = tuple(fields_of_group.items())
        try:
            key: Any = (rest, when.year if when is not None else None)
            group = groups.get(key)
        except TypeError:  # a list among the values (image sizes): group by its JSON
            key = (orjson.dumps(rest), when.year if when is not None else None)
            group = groups.get(key)
        if group is None:
            if when is not None:
                fields_of_group["utc_datetime"] = when  # the first line's time: the group shares its year
            group = groups[key] = (fields_of_group, [], [])
        group[1].append(index)
        group[2].append(counts)

    for _, indices, outcome in estimate_groups(pipeline, groups.values(), ranges=ranges):
        if isinstance(outcome, ValidationError):
            error = _validation_error(outcome)
            for index in indices:
                results[index] = [first_line + index, converted[index].key, None, None, error]
            continue
        for index, result in zip(indices, outcome, strict=True):
            if result.error is not None:
                results[index] = [first_line + index, converted[index].key, None, None, result.error.to_wire()]
            else:
                inference, training = stored(result.inference), stored(result.training)
                done = [first_line + index, converted[index].key, inference, training]
                if ranges and result.inference_low is not None and result.inference_high is not None:
                    done += [None, stored(result.inference_low), stored(result.inference_high)]
                results[index] = done
    failed = [result[2] for result in results].count(None)
    return [orjson.dumps(result) for result in results], len(results) - failed, failed
