"""`SCOPE3_COMPARE`: each line against an alternative (another model, hosting or place), in one call.

Both sides are `SCOPE3_IMPACT` lines, estimated by the same code (`server.sheets.run.estimate_lines`): the line
as given (`model`, `input_tokens`, `output_tokens`, its model's default hosting and place) and its alternative
(`alt_model`, blank for the same model, on `alt_hosting` at `alt_location`, blank for the alternative model's
defaults). Per metric, three columns: the alternative's value, the difference (alternative - line) and the ratio
(alternative / line), so the difference is exactly what two `SCOPE3_IMPACT` ranges would subtract to.
"""

from __future__ import annotations

from typing import Any

from server.pipeline import fields as cells
from server.pipeline.equivalences import ENERGY_CLASS
from server.pipeline.errors import InputError
from server.pipeline.fields import Places
from server.pipeline.run import Pipeline
from server.sheets.lines import Line, ParsedLine, check_arguments, check_heights, column_cells, function_lines
from server.sheets.run import ERROR_PREFIX, error_row, estimate_lines

COMPARE_ARGUMENTS = ("model", "input_tokens", "output_tokens", "alt_model", "alt_hosting", "alt_location")
SUFFIXES = ("alt", "difference", "ratio")
# At most this many metrics (18 columns): a comparison spills no wider than SCOPE3_IMPACT's widest answer, which is
# how far the add-on's "Freeze results as values" looks (apps_script/Menu.gs SCOPE3_MAX_RESULT_COLUMNS_).
MAX_COMPARED = 6


def compare_columns(metrics: tuple[str, ...]) -> tuple[str, ...]:
    if ENERGY_CLASS in metrics:
        raise InputError(
            "metric: energy_class is a label, not a number to compare; compare energy_wh and show each side's class "
            "with SCOPE3_IMPACT",
            field="metric",
            reason="not_a_number",
        )
    if len(metrics) > MAX_COMPARED:
        raise InputError(
            f"metric: compare at most {MAX_COMPARED} metrics (3 columns each), not {len(metrics)}",
            field="metric",
            reason="too_many_metrics",
        )
    return tuple(f"{metric}_{suffix}" for metric in metrics for suffix in SUFFIXES)


def _or_base(alt: Any, base: Any) -> Any:
    """The alternative model: its own cell, or the line's model where it is blank (cell by cell for ranges)."""
    alt_cells, base_cells = column_cells(alt, "alt_model"), column_cells(base, "model")
    if alt_cells is not None and len(alt_cells) == 1:  # a one-cell range applies to every line, as a scalar does
        alt, alt_cells = alt_cells[0], None
    if base_cells is not None and len(base_cells) == 1:
        base, base_cells = base_cells[0], None
    if alt_cells is None:
        return base if cells.is_blank(alt) else alt
    if base_cells is None:
        return [[base if cells.is_blank(cell) else cell] for cell in alt_cells]
    return [[b if cells.is_blank(a) else a] for a, b in zip(alt_cells, base_cells, strict=True)]


def compare_lines(args: dict[str, Any], places: Places) -> tuple[list[Line], list[Line]]:
    """(the lines as given, their alternatives), of one height."""
    check_arguments(args, COMPARE_ARGUMENTS, "SCOPE3_COMPARE")
    check_heights(
        {name: len(found) for name, value in args.items() if (found := column_cells(value, name)) is not None}
    )
    counts: dict[str, Any] = {name: args[name] for name in ("input_tokens", "output_tokens") if name in args}
    alt = {"model": _or_base(args.get("alt_model"), args["model"])}
    for name, field in (("alt_hosting", "hosting"), ("alt_location", "location")):
        if name in args:
            alt[field] = args[name]
    base_lines = function_lines({"model": args["model"], **counts}, places)
    # The alternative's own cells, read once; its token counts are the line's (already read, and checked).
    alt_lines = function_lines(alt, places)
    # A side given only as single values is one line: it applies to every line of the other (none, for a range
    # with no cells on the other side).
    if len(base_lines) == 1 and len(alt_lines) != 1:
        base_lines = base_lines * len(alt_lines)
    elif len(alt_lines) == 1 and len(base_lines) != 1:
        alt_lines = alt_lines * len(base_lines)
    return base_lines, [_with_counts(theirs, mine) for theirs, mine in zip(alt_lines, base_lines, strict=True)]


def _with_counts(theirs: Line, mine: Line) -> Line:
    """The alternative of a good line at that line's token counts; otherwise as read (a bad or blank line shows
    its own error, or nothing, whatever its alternative)."""
    if isinstance(theirs, ParsedLine) and isinstance(mine, ParsedLine):
        return ParsedLine(theirs.fields, mine.input_tokens, mine.output_tokens)
    return theirs


def compare(
    pipeline: Pipeline, base_lines: list[Line], alt_lines: list[Line], metrics: tuple[str, ...]
) -> tuple[list[list[Any]], int]:
    """(per line: alternative, difference and ratio for each metric, or the line's `#ERROR ...`; the bad lines)."""
    width = len(metrics) * len(SUFFIXES)
    base, _ = estimate_lines(pipeline, base_lines, metrics, table_form=False)
    alt, _ = estimate_lines(pipeline, alt_lines, metrics, table_form=False)
    out: list[list[Any]] = []
    failed = 0
    for mine, theirs in zip(base, alt, strict=True):
        if _is_error(mine):
            out.append(error_row(str(mine[0])[len(ERROR_PREFIX) :], width))
            failed += 1
        elif _is_error(theirs):
            out.append(error_row("alternative: " + str(theirs[0])[len(ERROR_PREFIX) :], width))
            failed += 1
        elif mine[0] == "" or theirs[0] == "":
            out.append([""] * width)
        else:
            row: list[Any] = []
            for value, other in zip(mine, theirs, strict=True):
                row += [other, other - value, other / value if value else ""]
            out.append(row)
    return out, failed


def _is_error(row: list[Any]) -> bool:
    return isinstance(row[0], str) and row[0].startswith(ERROR_PREFIX)
