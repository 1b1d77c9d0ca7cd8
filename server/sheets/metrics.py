"""The `metric` argument of the Sheets functions: which metrics (`server.pipeline.metrics`) a sheet shows."""

from __future__ import annotations

from server.catalog.names import close_matches, did_you_mean
from server.pipeline.equivalences import ENERGY_CLASS
from server.pipeline.errors import InputError
from server.pipeline.metrics import BY_NAME, DEFAULT_METRICS
from server.pipeline.metrics import METRICS as PHYSICAL

# Every name `metric` takes: the metrics, their everyday equivalences, and the energy class label (Sheets only).
METRICS = (*BY_NAME, ENERGY_CLASS)
ALL = "all"
# What `all` gives: the physical metrics (the equivalences and the label are asked for by name).
ALL_COLUMNS = tuple(metric.name for metric in PHYSICAL)
# Other spellings people type, including the API's own field names.
SYNONYMS = {
    "energy": "energy_wh",
    "wh": "energy_wh",
    "usage_energy_wh": "energy_wh",
    "co2e": "gco2e",
    "carbon": "gco2e",
    "emissions": "gco2e",
    "emissions_gco2e": "gco2e",
    "water": "water_ml",
    "usage_emissions_gco2e": "usage_gco2e",
    "embodied_emissions_gco2e": "embodied_gco2e",
    "car_km": "km_by_car",
    "km_driven": "km_by_car",
    "smartphone_charges": "phone_charges",
    "label": ENERGY_CLASS,
    "class": ENERGY_CLASS,
}
_KNOWN = {**{name: name for name in METRICS}, **SYNONYMS, ALL: ALL}


def metric_columns(value: object) -> tuple[str, ...]:
    """The columns `metric` asks for: blank means the default three; `all`; one name or a comma-separated list."""
    if value is None or value == "":
        return DEFAULT_METRICS
    if not isinstance(value, str):
        raise InputError(
            "metric: expected one name such as 'gco2e', a comma-separated list, or 'all' (not a range or a number)",
            field="metric",
            reason="not_text",
        )
    columns: list[str] = []
    for part in value.split(","):
        spelled = part.strip().lower().replace(" ", "_").replace("-", "_")
        if not spelled:
            continue
        name = _KNOWN.get(spelled)
        if name is None:
            hint = did_you_mean(close_matches(spelled, {key: key for key in (*METRICS, ALL)}))
            raise InputError(
                f"metric: unknown metric {part.strip()!r}{hint}; choose from {', '.join(METRICS)} or all",
                field="metric",
                reason="unknown_metric",
            )
        for column in ALL_COLUMNS if name == ALL else (name,):
            if column not in columns:
                columns.append(column)
    return tuple(columns) or DEFAULT_METRICS
