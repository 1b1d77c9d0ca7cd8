"""Sheets arguments as lines: what `SCOPE3_IMPACT(...)` and `SCOPE3_IMPACT_TABLE(...)` received, one impact row each.

`SCOPE3_IMPACT` gets each argument as a scalar (one cell or a literal) or a one-column range (a 2-D array). Scalars
apply to every line; ranges must all have the same height, which is the number of lines. `SCOPE3_IMPACT_TABLE`
gets one range whose first row names the fields. A line becomes a `ParsedLine` (its `ImpactRow` fields, with the
token counts apart so that lines differing only in counts share the rest), `None` when every cell it reads from a
range is blank (the sheet's empty rows), or a `FieldError` saying what is wrong with it. Token counts are checked
against `ImpactRow`'s own limits here; everything else is validated with the row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from pydantic import ValidationError

from server.catalog.names import close_matches, did_you_mean
from server.pipeline import fields as cells
from server.pipeline.errors import InputError
from server.pipeline.fields import Places
from server.schemas.impact import (
    FLAT_FIELDS,
    TOKEN_FIELDS,
    header_field,
    token_count,
)
from server.sheets.errors import describe

MAX_LINES = 10_000

# What one cell contributes to its line: (field, value) pairs (`US-NY` is a country and a region).
Fragment = tuple[tuple[str, Any], ...]


class ParsedLine(NamedTuple):
    # Every field but the token counts, one fragment per column (None for a blank cell). Hashable, and equal for
    # the lines of a range that share model, task, hosting and place.
    fields: tuple[Fragment | None, ...]
    input_tokens: int | None
    output_tokens: int | None


Line = ParsedLine | None | cells.FieldError
# A cell's conversion: the fields it gives, or (for a token-count column) the count.
Converter = Callable[[Any], Any]
FieldConverter = Callable[[Any, str], Any]

# SCOPE3_IMPACT's arguments, in order (`metric` travels beside them).
FUNCTION_ARGUMENTS = ("model", "input_tokens", "output_tokens", "task", "hosting", "location")

# Besides the row's flat fields, a table may name these (SCOPE3_IMPACT's spellings of hosting and place).
PLACE_COLUMNS = ("hosting", "location")


def column_cells(value: Any, name: str) -> list[Any] | None:
    """A range argument's cells, top to bottom; None for a scalar."""
    if not isinstance(value, list):
        return None
    try:  # the usual one-column range, unpacked at C speed
        return [cell for (cell,) in value]
    except (TypeError, ValueError):
        pass
    column: list[Any] = []
    for row in value:
        cells_in_row = row if isinstance(row, list) else [row]
        if len(cells_in_row) > 1:
            raise InputError(
                f"{name}: give a single column (the range has {len(cells_in_row)} columns)",
                field=name,
                reason="not_one_column",
            )
        column.append(cells_in_row[0] if cells_in_row else "")
    return column


def _convert(values: Sequence[Any], convert: Converter) -> list[Any]:
    """Each cell of one column converted (None when blank; a `FieldError` when bad), each distinct cell once."""
    memo: dict[Any, Any] = {}
    out: list[Any] = []
    append = out.append
    for value in values:
        kind = type(value)
        if kind is str:
            if not value.strip():
                append(None)
                continue
            key: Any = value
        elif value is None:
            append(None)
            continue
        elif kind is int or kind is float or kind is bool:
            key = (kind, value)  # the type keeps TRUE apart from 1
        else:
            key = (kind, repr(value))  # a stray list or object in a table cell
        found = memo.get(key)
        if found is None:
            try:
                found = convert(value)
            except cells.FieldError as exc:
                found = exc
            memo[key] = found
        append(found)
    return out


def _token_converter(field: str) -> Converter:
    """A token-count cell as a whole number within the row's limits."""

    def convert(value: Any) -> int:
        number = value if type(value) is int else cells.count(value, field)
        try:
            token_count(field, number)
        except ValidationError as exc:
            raise cells.FieldError(field, describe(exc.errors(include_url=False)[0], number)) from exc
        return number

    return convert


class Column(NamedTuple):
    cells: list[Any]  # converted, one per line
    token: int | None  # 0 or 1 for the input or output token count, else None: a column of fields


def _picker(positions: Sequence[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A function taking those positions of a tuple, as a tuple."""
    if len(positions) == 1:
        only = positions[0]
        return lambda values: (values[only],)
    return itemgetter(*positions) if positions else lambda values: ()


def _assemble(columns: list[Column], *, ranged: Sequence[int], required: int | None) -> list[Line]:
    """Lines from converted columns, in argument order. A line is blank when its cells in the `ranged` columns all
    are; the first bad cell is the line's error; no other line may leave the `required` column blank."""
    every = len(ranged) == len(columns)
    fields_of = _picker([position for position, column in enumerate(columns) if column.token is None])
    no_count = [None] * len(columns[0].cells) if columns else []
    input_tokens = next((column.cells for column in columns if column.token == 0), no_count)
    output_tokens = next((column.cells for column in columns if column.token == 1), no_count)
    lines: list[Line] = []
    append = lines.append
    for values, count_in, count_out in zip(
        zip(*(column.cells for column in columns), strict=True), input_tokens, output_tokens, strict=True
    ):
        if (every and values.count(None) == len(values)) or (
            not every and all(values[position] is None for position in ranged)
        ):
            append(None)
        elif cells.FieldError in map(type, values):
            append(next(value for value in values if isinstance(value, cells.FieldError)))
        elif required is not None and values[required] is None:
            append(cells.FieldError("model", "blank (give a model id such as gpt-4o)"))
        else:
            # The fields stay in argument order, blanks included: equal tuples for lines that differ only in counts.
            append(ParsedLine(fields_of(values), count_in, count_out))
    return lines


def _argument_converters(places: Places) -> dict[str, Converter]:
    return {
        "model": lambda value: (("model_id", cells.text(value, "model")),),
        "input_tokens": _token_converter("input_tokens"),
        "output_tokens": _token_converter("output_tokens"),
        "task": lambda value: (("task", cells.task(value)),),
        "hosting": lambda value: tuple(places.hosting(value).items()),
        "location": lambda value: tuple(places.location(value).items()),
    }


def _token_role(field: str) -> int | None:
    return TOKEN_FIELDS.index(field) if field in TOKEN_FIELDS else None


def check_arguments(args: dict[str, Any], allowed: Sequence[str], function: str) -> None:
    """A function's arguments by name: only those it takes, and a model."""
    unknown = [name for name in args if name not in allowed]
    if unknown:
        raise InputError(
            f"args: unknown argument {unknown[0]!r}; {function} takes {', '.join(allowed)}",
            field=f"args.{unknown[0]}",
            reason="unknown_argument",
        )
    if "model" not in args:
        raise InputError("args.model: required (a model id such as gpt-4o, or a range of them)", field="args.model")


def check_heights(heights: dict[str, int]) -> None:
    """Ranges (argument: rows) of one height; a one-cell range applies to every line, as a scalar does."""
    if len({height for height in heights.values() if height != 1}) > 1:
        shown = ", ".join(f"{name} {height}" for name, height in heights.items())
        raise InputError(
            f"ranges of different heights ({shown} rows): give every range the same rows",
            field=next(iter(heights)),
            reason="range_heights",
        )


def function_lines(args: dict[str, Any], places: Places) -> list[Line]:
    """`SCOPE3_IMPACT`'s arguments as lines."""
    check_arguments(args, FUNCTION_ARGUMENTS, "SCOPE3_IMPACT")
    ranges = {name: column for name, value in args.items() if (column := column_cells(value, name)) is not None}
    heights = {name: len(column) for name, column in ranges.items()}
    # A one-cell range (`={5}`) applies to every line, as a scalar does, when other ranges are taller.
    tallest = max(heights.values(), default=1)
    check_heights(heights)
    _check_count(tallest)
    converters = _argument_converters(places)
    order = [name for name in FUNCTION_ARGUMENTS if name in args]
    ranged = [position for position, name in enumerate(order) if name in ranges and len(ranges[name]) == tallest]
    columns = []
    for position, name in enumerate(order):
        if position in ranged:
            converted = _convert(ranges[name], converters[name])
        else:  # a scalar, or a one-cell range, for every line
            value = ranges[name][0] if ranges.get(name) else args[name]
            converted = _convert([value], converters[name]) * tallest
        columns.append(Column(converted, _token_role(name)))
    # With no range at all, the one line is blank when every argument is.
    return _assemble(columns, ranged=ranged or range(len(order)), required=order.index("model"))


def _header_field(cell: Any, index: int) -> str | None:
    """A header cell as the field it names; None for a blank header (that column is ignored)."""
    if cells.is_blank(cell):
        return None
    spelled = str(cell).strip()
    key = header_field(spelled)
    if key in FLAT_FIELDS or key in PLACE_COLUMNS:
        return key
    hint = did_you_mean(close_matches(key, {name: name for name in (*sorted(FLAT_FIELDS), *PLACE_COLUMNS)}))
    raise InputError(
        f"table: column {index + 1} is headed {spelled!r}, which is not an impact-row field{hint}",
        field=f"table.0.{index}",
        reason="unknown_column",
    )


def _field_converter(field: str, places: Places) -> Converter:
    if field in TOKEN_FIELDS:
        return _token_converter(field)
    if field == "hosting":
        return lambda value: tuple(places.hosting(value).items())
    if field == "location":
        return lambda value: tuple(places.location(value).items())
    convert: FieldConverter = cells.RULES.get(field, cells.text)
    return lambda value: ((field, convert(value, field)),)


def table_lines(table: Sequence[Any], places: Places, *, max_lines: int = MAX_LINES) -> list[Line]:
    """`SCOPE3_IMPACT_TABLE`'s range as lines: the first row names the fields, each later row is one line."""
    if not table or not isinstance(table[0], list):
        raise InputError(
            "table: give a range whose first row names the fields (model_id, input_tokens, ...)", field="table"
        )
    header = [_header_field(cell, index) for index, cell in enumerate(table[0])]
    if not any(header):
        raise InputError("table: the first row must name the fields (model_id, input_tokens, ...)", field="table")
    rows = [row if isinstance(row, list) else [row] for row in table[1:]]
    _check_count(len(rows), max_lines)
    columns = [
        Column(
            _convert([row[index] if index < len(row) else "" for row in rows], _field_converter(field, places)),
            _token_role(field),
        )
        for index, field in enumerate(header)
        if field
    ]
    return _assemble(columns, ranged=range(len(columns)), required=None)


def _check_count(count: int, max_lines: int = MAX_LINES) -> None:
    if count > max_lines:
        raise InputError(
            f"at most {max_lines} lines per call (got {count}); split the range",
            field="lines",
            reason="too_many_lines",
        )


def line_row(line: ParsedLine) -> dict[str, Any]:
    """A parsed line as impact-row fields (what the batch jobs store for a sheet's rows)."""
    row = {name: value for fragment in line.fields if fragment is not None for name, value in fragment}
    for name, value in zip(TOKEN_FIELDS, (line.input_tokens, line.output_tokens), strict=True):
        if value is not None:
            row[name] = value
    return row
