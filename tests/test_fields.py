"""Text to fields, once (`server.pipeline.fields`): a tricky value gets the same verdict as a Sheets cell, a CSV
cell and a BigQuery argument, the one the README documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from server.api.bigquery import CALL_ARGUMENTS
from server.batch import formats
from server.batch.run import estimate_block
from server.catalog.store import Catalog
from server.pipeline import fields
from server.pipeline.metrics import from_stored, row_reader
from server.pipeline.run import Pipeline
from server.schemas.impact import ImpactRow

TEXT = {"model_id": "gpt-4o", "task": "text-generation", "input_tokens": 100, "output_tokens": 10}
IMAGE = {"model_id": "dall-e-3", "task": "text-to-image", "input_tokens": 20}
ERROR = object()
GCO2E = row_reader(("gco2e",))

# (base row, field, the value as typed, the field's value by the documented rule or ERROR)
CASES = [
    (TEXT, "input_tokens", "512.4", 512),
    (TEXT, "input_tokens", "1,200", 1200),
    (TEXT, "input_tokens", " 1,200.6 ", 1201),
    (TEXT, "input_tokens", "1,5", ERROR),
    (TEXT, "input_tokens", "lots", ERROR),
    (IMAGE, "output_images", "1024*1024", ["1024x1024"]),
    (IMAGE, "output_images", " 1024x1024 ", ["1024x1024"]),
    (IMAGE, "output_images", "1024 x 1024; 512X512", ["1024x1024", "512x512"]),
    (IMAGE, "output_images", "10 by 10", ERROR),
    (TEXT, "utc_datetime", "45352.5", datetime(2024, 3, 1, 12, tzinfo=UTC)),
    (TEXT, "utc_datetime", "2024-03-01T12:00:00Z", datetime(2024, 3, 1, 12, tzinfo=UTC)),
    (TEXT, "utc_datetime", "1 March", ERROR),
    (TEXT, "task", "Text generation", "text-generation"),
]


def _sheets(client: FlaskClient, row: dict[str, Any]) -> float | str:
    header = list(row)
    body = {"function": "SCOPE3_IMPACT_TABLE", "table": [header, [row[name] for name in header]], "metric": "gco2e"}
    response = client.post("/v1/sheets/impact", json=body)
    assert response.status_code == 200, response.json
    value: float | str = response.json["values"][0][0]
    return value


def _csv(catalog: Catalog, row: dict[str, Any]) -> float | str:
    header = list(row)
    record = orjson.dumps([str(row[name]) for name in header])
    (stored,), _, _ = estimate_block(
        Pipeline(catalog), [record], fmt="csv", csv_fields=formats.detect_csv(header), first_line=1
    )
    _, _, inference, training, *error = orjson.loads(stored)
    if inference is None:
        return "#ERROR " + error[0]["message"]
    return GCO2E(from_stored(inference), from_stored(training))[0]


def _bigquery(client: FlaskClient, row: dict[str, Any]) -> float | str:
    call = [row.get(name) for name in CALL_ARGUMENTS]
    response = client.post("/", json={"calls": [call]})
    assert response.status_code == 200, response.json
    reply = orjson.loads(response.json["replies"][0])
    if "error" in reply:
        return "#ERROR " + reply["error"]
    value: float = reply["usage_emissions_gco2e"] + reply["embodied_emissions_gco2e"]
    return value


@pytest.mark.parametrize(("base", "field", "typed", "expected"), CASES, ids=[f"{c[1]}={c[2]!r}" for c in CASES])
def test_a_value_gets_one_verdict_in_sheets_csv_and_bigquery(
    client: FlaskClient, catalog: Catalog, base: dict[str, Any], field: str, typed: str, expected: Any
) -> None:
    row = {**base, field: typed}
    verdicts = {"sheets": _sheets(client, row), "csv": _csv(catalog, row), "bigquery": _bigquery(client, row)}
    if expected is ERROR:
        for path, verdict in verdicts.items():
            assert isinstance(verdict, str), (path, verdict)
            assert verdict.startswith(f"#ERROR {field}: "), (path, verdict)
        return
    result = Pipeline(catalog).run_row(ImpactRow.model_validate({**base, field: expected}))
    assert result.error is None
    want = GCO2E(result.inference, result.training)[0]
    assert verdicts == dict.fromkeys(verdicts, want)


@pytest.mark.parametrize(
    ("field", "typed", "value"),
    [
        ("input_tokens", "512.4", 512),
        ("input_tokens", 512.6, 513),
        ("request_cost", "1,234.5", 1234.5),
        ("output_images", "1024*1024, 512\u00d7512", ("1024x1024", "512x512")),
        ("output_images", '["1024x1024"]', ("1024x1024",)),
        ("utc_datetime", 45352, datetime(2024, 3, 1, tzinfo=UTC)),
        ("utc_datetime", "45,352.25", datetime(2024, 3, 1, 6, tzinfo=UTC)),
        ("utc_datetime", 1_709_294_400, 1_709_294_400),  # a unix time, for the row's validation
        ("utc_datetime", "2024-03-01", "2024-03-01"),
        ("country", " fr ", "fr"),
        ("model_id", 5.0, "5"),
    ],
)
def test_the_documented_rule_of_each_field(field: str, typed: Any, value: Any) -> None:
    assert fields.field_value(field, typed) == value


@pytest.mark.parametrize(
    ("field", "typed"), [("input_tokens", "inf"), ("input_tokens", True), ("utc_datetime", -3), ("model_id", False)]
)
def test_values_no_rule_takes_are_errors_naming_the_field(field: str, typed: Any) -> None:
    with pytest.raises(fields.FieldError, match=f"^{field}: expected"):
        fields.field_value(field, typed)
