"""Sheet lines through the pipeline, to the 2-D array a custom function returns.

Lines that differ only in their token counts (a long range of one model, task, hosting and place) are validated
and resolved once, then estimated per line (`server.pipeline.run.estimate_groups`); every line still gets exactly what
`/v1/impact` gives the same row.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from server.pipeline.equivalences import ENERGY_CLASS, energy_class
from server.pipeline.fields import FieldError
from server.pipeline.metrics import needs_ranges, row_reader
from server.pipeline.run import Pipeline, estimate_groups
from server.sheets.errors import validation_message
from server.sheets.lines import Fragment, Line, ParsedLine

ERROR_PREFIX = "#ERROR "


def error_row(message: str, width: int) -> list[Any]:
    return [ERROR_PREFIX + message, *([""] * (width - 1))]


def estimate_lines(
    pipeline: Pipeline, lines: list[Line], columns: tuple[str, ...], *, table_form: bool
) -> tuple[list[list[Any]], int]:
    """(one output row per line: numbers, blanks for a blank line, `#ERROR ...` for a bad one; the bad lines)."""
    width = len(columns)
    out: list[list[Any]] = [[""] * width] * len(lines)  # every row not blank is replaced below
    failed = 0
    groups: dict[tuple[Fragment | None, ...], tuple[list[int], list[tuple[int | None, int | None]]]] = {}
    for index, line in enumerate(lines):
        if line is None:
            continue
        if isinstance(line, FieldError):
            out[index] = error_row(line.message, width)
            failed += 1
            continue
        group = groups.get(line.fields)
        if group is None:
            group = groups[line.fields] = ([], [])
        group[0].append(index)
        group[1].append((line.input_tokens, line.output_tokens))

    # The energy class is a label from the line's own output tokens: set in its place after the numbers.
    label_at = columns.index(ENERGY_CLASS) if ENERGY_CLASS in columns else None
    numbers = tuple(name for name in columns if name != ENERGY_CLASS)
    row_of = row_reader(numbers)
    ranges = needs_ranges(numbers)
    as_fields = (
        ({name: value for fragment in fields if fragment is not None for name, value in fragment}, indices, counts)
        for fields, (indices, counts) in groups.items()
    )
    for values, indices, outcome in estimate_groups(pipeline, as_fields, ranges=ranges):
        if isinstance(outcome, ValidationError):
            message = validation_message(outcome, values, table_form=table_form)
            for index in indices:
                out[index] = error_row(message, width)
            failed += len(indices)
            continue
        for index, result in zip(indices, outcome, strict=True):
            if result.error is not None:
                out[index] = error_row(result.error.message, width)
                failed += 1
                continue
            row: list[Any] = row_of(result.inference, result.training, result.inference_low, result.inference_high)
            if label_at is not None:
                line = lines[index]
                tokens = line.output_tokens if isinstance(line, ParsedLine) else None
                row.insert(label_at, energy_class(result.inference.usage_energy_wh, tokens))
            out[index] = row
    return out, failed
