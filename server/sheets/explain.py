"""What one line's estimate is made of, for the add-on's "Explain this estimate" sidebar.

One line (a `SCOPE3_IMPACT` call's arguments, or a table's header and one row) runs through the same pipeline as
every entry point, with its range, and the answer lays the three headline figures out in parts that add up to
them: energy as accelerators, host, idle reserve, the site's overhead (PUE - 1) and the training share; emissions
as the electricity, the hardware's manufacturing and training; water as on-site cooling, the electricity's
generation, manufacturing and training. The model, hardware, place, methodology version and the catalog sources
come with it.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from server.catalog.store import Catalog
from server.engine import usage_parts
from server.pipeline.equivalences import ENERGY_CLASS
from server.pipeline.errors import InputError, RowError
from server.pipeline.metrics import BY_NAME, headline_of, row_reader
from server.pipeline.run import Pipeline, RowResult, debug_info
from server.schemas.impact import ImpactRow
from server.sheets.errors import validation_message
from server.sheets.lines import Line, ParsedLine, line_row

HEADLINES = ("energy_wh", "gco2e", "water_ml")
# The headlines, then their lows, then their highs: one reader for the nine.
COLUMNS = (*HEADLINES, *(f"{name}_low" for name in HEADLINES), *(f"{name}_high" for name in HEADLINES))


def one_line(lines: list[Line]) -> ParsedLine:
    """The single line to explain; a blank or bad one is the caller's error."""
    if len(lines) != 1:
        raise InputError(f"explain one line at a time (got {len(lines)})", field="lines", reason="not_one_line")
    line = lines[0]
    if line is None:
        raise InputError("the line is blank: nothing to explain", field="lines", reason="blank_line")
    if not isinstance(line, ParsedLine):
        raise InputError(line.message, field=line.field, reason="bad_line")
    return line


def _part(name: str, value: float, total: float) -> dict[str, Any]:
    return {"name": name, "value": value, "share": value / total if total else 0.0}


def headlines(columns: tuple[str, ...]) -> dict[str, str]:
    """Which headline figure each column shows or is part of; the energy class is read from the energy."""
    return {name: "energy_wh" if name == ENERGY_CLASS else headline_of(name) for name in columns}


def explain(pipeline: Pipeline, line: ParsedLine) -> dict[str, Any]:
    fields = line_row(line)
    try:
        row = ImpactRow.model_validate(fields)
    except ValidationError as exc:
        raise InputError(validation_message(exc, fields, table_form=False), field="line", reason="bad_line") from exc
    result = pipeline.run_row(row, ranges=True)
    if result.error is not None or result.resolved is None:
        error = result.error or RowError("NOT_RESOLVED", "the line could not be estimated")
        raise InputError(error.message, field=error.field or "line", reason=error.code.lower())
    return _explanation(pipeline.catalog, fields, result)


def _explanation(catalog: Catalog, fields: dict[str, Any], result: RowResult) -> dict[str, Any]:
    resolved = result.resolved
    assert resolved is not None
    p = resolved.prepared
    inference, training = result.inference, result.training
    parts = usage_parts(p, result.gpu_energy_j)
    read = row_reader(COLUMNS)(inference, training, result.inference_low, result.inference_high)
    values, lows, highs = read[0:3], read[3:6], read[6:9]
    energy, gco2e, water = (float(value or 0.0) for value in values)
    place = resolved.country + (f"-{resolved.region}" if resolved.region else "")
    breakdown = {
        "energy_wh": [
            _part("accelerators", parts.accelerators_wh, energy),
            _part("host (CPU, memory, network)", parts.host_wh, energy),
            _part("idle capacity held in reserve", parts.idle_reserve_wh, energy),
            _part(f"cooling and power distribution (PUE {p.pue:g})", parts.overhead_wh, energy),
            _part("training, amortised per request", training.usage_energy_wh, energy),
        ],
        "gco2e": [
            _part(
                f"electricity ({resolved.gco2e_per_kwh:g} gCO2e/kWh, {place})", inference.usage_emissions_gco2e, gco2e
            ),
            _part("making the hardware (and the site)", inference.embodied_emissions_gco2e, gco2e),
            _part(
                "training, amortised per request",
                training.usage_emissions_gco2e + training.embodied_emissions_gco2e,
                gco2e,
            ),
        ],
        "water_ml": [
            _part("cooling at the site", parts.onsite_water_ml, water),
            _part(f"generating the electricity ({place})", parts.generation_water_ml, water),
            _part("making the hardware", inference.embodied_water_ml, water),
            _part("training, amortised per request", training.usage_water_ml + training.embodied_water_ml, water),
        ],
    }
    debug = debug_info(result, 0.0, catalog.methodology_version)
    return {
        "row": fields,
        "methodology_version": catalog.methodology_version,
        "model": resolved.model.wire,
        "hardware": debug["hardware_node"],
        "place": {**debug["grid_mix"], "pue": p.pue},
        "metrics": {
            name: {
                "unit": BY_NAME[name].unit,
                "value": value,
                "low": low,
                "high": high,
                "parts": breakdown[name],
            }
            for name, value, low, high in zip(HEADLINES, (energy, gco2e, water), lows, highs, strict=True)
        },
        "sources": _sources(catalog, resolved.model.row.source, debug["hardware_node"], resolved),
        "steps": [step["description"] for step in debug["steps"][1:]],
    }


def _sources(catalog: Catalog, model_source: str, node: dict[str, Any], resolved: Any) -> list[dict[str, str]]:
    """The catalog rows the estimate read, each with its source text (links kept as written)."""
    out = [{"what": f"model {resolved.model.row.id}", "source": model_source}]
    found = catalog.nodes.get(str(node.get("id", "")))
    if found is not None:
        out.append({"what": f"hardware {found.row.id}", "source": found.row.source})
    service = catalog.services.get(str(node.get("managed_service_id", "") or ""))
    if service is not None:
        out.append({"what": f"service {service.id}", "source": service.source})
    grid = catalog.grid_sources.get((resolved.country, resolved.region)) or catalog.grid_sources.get(
        (resolved.country, None)
    )
    if grid is not None:
        out.append({"what": f"grid {resolved.country}", "source": grid})
    return out
