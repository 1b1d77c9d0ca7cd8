"""The metrics, defined once: their names, units and how each sums, for /v1/impact, Sheets, batch and BigQuery.

The engine computes, for each part of a request (inference, training), the components of `Impacts`. The wire's
`ImpactMetrics` (the Scope3 spec's five) are some of them, by name. Every other number people see is a `Metric`: a
sum of components, in a fixed order, of one scope (the total, inference + training, or one part). `gco2e` is
`usage_emissions_gco2e + embodied_emissions_gco2e` of the total, added in that order, so a sheet, a batch result,
BigQuery and `/v1/impact`'s `total_gco2e` agree to the bit.

Adding a component: a field of `Impacts` (and the engine's sum of it), then, to show it, a `Metric` here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache, reduce
from operator import add

from server.engine import Impacts
from server.pipeline.equivalences import EQUIVALENCES
from server.schemas.impact import ImpactMetrics

COMPONENTS: tuple[str, ...] = Impacts._fields
# The spec's `ImpactMetrics`, in its order: what `/v1/impact`, BigQuery and batch results answer per part.
WIRE_COMPONENTS: tuple[str, ...] = tuple(ImpactMetrics.model_fields)
_MISSING = [name for name in WIRE_COMPONENTS if name not in COMPONENTS]
if _MISSING:  # pragma: no cover - a definition error, caught by any test importing this module
    raise RuntimeError(f"the engine's Impacts lacks the wire's {_MISSING}")
_INDEX = {name: index for index, name in enumerate(COMPONENTS)}


class Scope(StrEnum):
    TOTAL = "total"  # inference + training
    INFERENCE = "inference"
    TRAINING = "training"


class Bound(StrEnum):
    """Which estimate a metric reads: the central one, or every ranged figure at its low or high end."""

    CENTRAL = ""
    LOW = "low"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    unit: str
    scope: Scope
    parts: tuple[str, ...]  # components summed, in this order
    description: str
    bound: Bound = Bound.CENTRAL
    scale: float = 1.0  # the sum times this: 1, or 1 / an everyday equivalent (`server.pipeline.equivalences`)


# The three headline sums (name, unit, parts, what), of the total unless a scope prefixes the name.
_SUMS = (
    ("energy_wh", "Wh", ("usage_energy_wh",), "energy"),
    ("gco2e", "gCO2e", ("usage_emissions_gco2e", "embodied_emissions_gco2e"), "emissions, usage + embodied"),
    ("water_ml", "mL", ("usage_water_ml", "embodied_water_ml"), "water, usage + embodied"),
)

# Every metric a sheet's `metric` may name, in the order `all` lists them.
METRICS: tuple[Metric, ...] = (
    *(Metric(name, unit, Scope.TOTAL, parts, what) for name, unit, parts, what in _SUMS),
    Metric("usage_gco2e", "gCO2e", Scope.TOTAL, ("usage_emissions_gco2e",), "emissions of the energy used"),
    Metric("embodied_gco2e", "gCO2e", Scope.TOTAL, ("embodied_emissions_gco2e",), "emissions of making the hardware"),
    Metric("usage_water_ml", "mL", Scope.TOTAL, ("usage_water_ml",), "water of the energy used"),
    Metric("embodied_water_ml", "mL", Scope.TOTAL, ("embodied_water_ml",), "water of making the hardware"),
    *(
        Metric(f"{scope}_{name}", unit, scope, parts, f"{what}, {scope} only")
        for scope in (Scope.INFERENCE, Scope.TRAINING)
        for name, unit, parts, what in _SUMS
    ),
    # The low and the high of the three sums (inference at its ranged figures' ends, plus training).
    *(
        Metric(f"{name}_{bound}", unit, Scope.TOTAL, parts, f"{what}, {bound} end of its range", bound)
        for name, unit, parts, what in _SUMS
        for bound in (Bound.LOW, Bound.HIGH)
    ),
)
_SUM_PARTS = {name: parts for name, _, parts, _ in _SUMS}
# Everyday equivalences, by name only: `all` lists the physical metrics above.
EQUIVALENCE_METRICS: tuple[Metric, ...] = tuple(
    Metric(name, unit, Scope.TOTAL, _SUM_PARTS[of], what, scale=1.0 / divisor)
    for name, of, divisor, unit, what in EQUIVALENCES
)
BY_NAME: Mapping[str, Metric] = {metric.name: metric for metric in (*METRICS, *EQUIVALENCE_METRICS)}
# What a sheet shows when `metric` is blank, and what `/v1/impact` sums over its rows (total_energy_wh, ...).
DEFAULT_METRICS: tuple[str, ...] = tuple(name for name, *_ in _SUMS)

# One metric of one row, from its (inference, training) impacts.
Reader = Callable[[Impacts, Impacts], float]
# The columns of one row, from its (inference, training[, inference at the low end, at the high end]); the last two
# are read only by `Bound.LOW` / `Bound.HIGH` metrics, which are None where they are left out (a batch line stored
# without its range); callers compute them when `needs_ranges` says a column reads them.
RowReader = Callable[..., list[float | None]]


def _reader(metric: Metric) -> Reader:
    """The metric as a small closure. Each part of the total is `inference[part] + training[part]`, as the total
    `inference + training` holds it, and the parts are added left to right."""
    indices = tuple(_INDEX[part] for part in metric.parts)
    if metric.scope is Scope.TOTAL:
        if len(indices) == 1:
            (a,) = indices
            return lambda inference, training: inference[a] + training[a]
        if len(indices) == 2:
            a, b = indices
            return lambda inference, training: (inference[a] + training[a]) + (inference[b] + training[b])
        return lambda inference, training: reduce(add, (inference[i] + training[i] for i in indices))
    if metric.scope is Scope.INFERENCE:
        return lambda inference, training: reduce(add, (inference[i] for i in indices))
    return lambda inference, training: reduce(add, (training[i] for i in indices))


def _scaled(metric: Metric) -> Reader:
    read = _reader(metric)
    if metric.scale == 1.0:
        return read
    scale = metric.scale
    return lambda inference, training: read(inference, training) * scale


_READERS: dict[str, Reader] = {name: _scaled(metric) for name, metric in BY_NAME.items()}


def headline_of(name: str) -> str:
    """The headline sum (`DEFAULT_METRICS`) a metric is, or is part of: `training_gco2e` and `km_by_car` are
    `gco2e`'s, for instance."""
    parts = set(BY_NAME[name].parts)
    return next(sum_name for sum_name, _, sum_parts, _ in _SUMS if parts <= set(sum_parts))


def needs_ranges(columns: tuple[str, ...]) -> bool:
    """Whether any of these metrics reads an estimate's low or high."""
    return any(BY_NAME[name].bound is not Bound.CENTRAL for name in columns)


@lru_cache(maxsize=256)
def row_reader(columns: tuple[str, ...]) -> RowReader:
    """The values of `columns` (metric names) of one row, from its inference (central, low, high) and training.

    Built once per tuple of columns (cached): a batch download asks for it once per line."""
    read = tuple(_READERS[name] for name in columns)
    if len(read) == 3 and not needs_ranges(columns):  # the default columns without a loop (5,000 lines per call)
        first, second, third = read
        return lambda inference, training, low=None, high=None: [
            first(inference, training),
            second(inference, training),
            third(inference, training),
        ]
    order = {Bound.CENTRAL: 0, Bound.LOW: 1, Bound.HIGH: 2}
    pairs = tuple((reader, order[BY_NAME[name].bound]) for reader, name in zip(read, columns, strict=True))

    def values(
        inference: Impacts, training: Impacts, low: Impacts | None = None, high: Impacts | None = None
    ) -> list[float | None]:
        chosen = (inference, low, high)
        out: list[float | None] = []
        for reader, which in pairs:
            impacts = chosen[which]
            out.append(None if impacts is None else reader(impacts, training))
        return out

    return values


def wire(impacts: Impacts) -> dict[str, float]:
    """The spec's `ImpactMetrics` of these impacts. Written out, three per row of `/v1/impact` (a third of the
    time of a loop over `WIRE_COMPONENTS`); the check below holds it to them."""
    return {
        "usage_energy_wh": impacts.usage_energy_wh,
        "usage_emissions_gco2e": impacts.usage_emissions_gco2e,
        "usage_water_ml": impacts.usage_water_ml,
        "embodied_emissions_gco2e": impacts.embodied_emissions_gco2e,
        "embodied_water_ml": impacts.embodied_water_ml,
    }


@dataclass(slots=True)
class Totals:
    """`/v1/impact`'s sums over its rows (total_energy_wh, total_gco2e, total_mlh2o): `DEFAULT_METRICS` of each
    row's total, added row by row. Written out for the per-row path; the check below holds it to the definitions."""

    energy_wh: float = 0.0
    gco2e: float = 0.0
    mlh2o: float = 0.0
    has_errors: bool = False

    def add(self, total: Impacts) -> None:
        self.energy_wh += total.usage_energy_wh
        self.gco2e += total.usage_emissions_gco2e + total.embodied_emissions_gco2e
        self.mlh2o += total.usage_water_ml + total.embodied_water_ml


def _check_written_out() -> None:
    sample = Impacts(*(float(2**index) for index in range(len(COMPONENTS))))
    zero = Impacts(*([0.0] * len(COMPONENTS)))
    if list(wire(sample).items()) != [(name, sample[_INDEX[name]]) for name in WIRE_COMPONENTS]:
        raise RuntimeError("metrics.wire does not give WIRE_COMPONENTS")
    totals = Totals()
    totals.add(sample)
    if [totals.energy_wh, totals.gco2e, totals.mlh2o] != row_reader(DEFAULT_METRICS)(sample, zero, None, None):
        raise RuntimeError("metrics.Totals does not sum as DEFAULT_METRICS")


_check_written_out()
ZERO_WIRE: Mapping[str, float] = dict.fromkeys(WIRE_COMPONENTS, 0.0)


def stored(impacts: Impacts) -> dict[str, float]:
    """Every component by name, as batch results store them: a task stays readable when a component is added."""
    return impacts._asdict()


def from_stored(values: Mapping[str, float] | list[float]) -> Impacts:
    """Impacts from a stored result: components by name (a component stored before it existed reads as 0.0), or
    the positional array of results stored before metrics were stored by name (`LEGACY_COMPONENTS`)."""
    if isinstance(values, list):
        values = dict(zip(LEGACY_COMPONENTS, values, strict=True))
    return Impacts(*(float(values.get(name, 0.0)) for name in COMPONENTS))


# The components of batch results stored as arrays (before December 2026), in their order. Never change it.
LEGACY_COMPONENTS = (
    "usage_energy_wh",
    "usage_emissions_gco2e",
    "usage_water_ml",
    "embodied_emissions_gco2e",
    "embodied_water_ml",
)
