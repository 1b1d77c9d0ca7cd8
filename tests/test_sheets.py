"""POST /v1/sheets/impact and GET /v1/sheets/catalog/<tab>: what the Apps Script functions call.

Every number a sheet gets is checked against `/v1/impact` for the same row: the sheets endpoint is an envelope
over the one pipeline, never an estimate of its own.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.accounts.keys import create_key
from server.app import create_app
from server.catalog.store import Catalog
from server.engine import Impacts
from server.pipeline import fields as cells
from server.pipeline.metrics import DEFAULT_METRICS, row_reader
from server.pipeline.run import Pipeline
from server.schemas.impact import ImpactRow
from server.schemas.sheets import SheetsExplainResponse, SheetsImpactResponse, SheetsTableResponse
from server.sheets.lines import MAX_LINES
from server.sheets.metrics import ALL_COLUMNS
from server.sync.columns import MODEL_COLUMNS
from tests.conftest import authorized, settings_for_tests

MODELS = ["gpt-4o", "gpt-4o-mini", "llama_31_8b", "claude-3-5-sonnet", "mistral-large-2407", "deepseek-v3"]
LOCATIONS = {
    "": {},
    "FR": {"country": "FR"},
    "US-NY": {"country": "US", "region": "NY"},
    "us-east-1": {"cloud_region": "us-east-1"},
    "aws:eu-west-1": {"cloud_id": "aws", "cloud_region": "eu-west-1"},
}
HOSTINGS = {
    "": {},
    "aws-bedrock": {"managed_service_id": "aws-bedrock"},
    "aws:p4d.24xlarge": {"node_id": "aws:p4d.24xlarge"},
    "aws-p5-48xlarge": {"node_id": "aws-p5-48xlarge"},
}


def sheets(client: FlaskClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/sheets/impact", json=body)
    assert response.status_code == 200, response.json
    answer: dict[str, Any] = response.json
    SheetsImpactResponse.model_validate(answer)
    return answer


def default_three(total: dict[str, float]) -> list[float]:
    """energy_wh, gco2e, water_ml of a `total_impact`, added in the documented order."""
    return [
        total["usage_energy_wh"],
        total["usage_emissions_gco2e"] + total["embodied_emissions_gco2e"],
        total["usage_water_ml"] + total["embodied_water_ml"],
    ]


def impact_totals(client: FlaskClient, rows: list[dict[str, Any]]) -> list[list[float]]:
    out: list[list[float]] = []
    for start in range(0, len(rows), 1000):
        response = client.post("/v1/impact", json={"rows": rows[start : start + 1000]})
        assert response.status_code == 200
        for row in response.json["rows"]:
            assert "error" not in row, row
            out.append(default_three(row["total_impact"]))
    return out


def column(values: list[Any]) -> list[list[Any]]:
    return [[value] for value in values]


def test_a_scalar_call_gives_one_row_equal_to_the_impact_api(client: FlaskClient) -> None:
    answer = sheets(client, {"args": {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 300}})
    assert answer["columns"] == ["energy_wh", "gco2e", "water_ml"]
    assert answer["lines"] == 1 and answer["errors"] == 0
    expected = impact_totals(client, [{"model_id": "gpt-4o", "input_tokens": 1000, "output_tokens": 300}])
    assert answer["values"] == expected


def test_a_5000_line_range_equals_the_impact_api_row_by_row(client: FlaskClient) -> None:
    rng = random.Random(7)
    lines = []
    for _ in range(5000):
        lines.append(
            (
                rng.choice(MODELS),
                rng.randint(0, 20000),
                rng.randint(1, 4000),
                rng.choice(list(HOSTINGS)),
                rng.choice(list(LOCATIONS)),
            )
        )
    args = {
        "model": column([line[0] for line in lines]),
        "input_tokens": column([line[1] for line in lines]),
        "output_tokens": column([str(line[2]) for line in lines]),  # numbers typed as text
        "hosting": column([line[3] for line in lines]),
        "location": column([line[4] for line in lines]),
    }
    answer = sheets(client, {"args": args})
    rows = [
        {"model_id": m, "input_tokens": i, "output_tokens": o, **HOSTINGS[h], **LOCATIONS[loc]}
        for m, i, o, h, loc in lines
    ]
    assert answer["errors"] == 0
    assert answer["values"] == impact_totals(client, rows)


def test_mixed_input_blanks_stay_blank_and_each_bad_line_says_why(client: FlaskClient) -> None:
    args = {
        "model": column(["gpt-4o", "", "gpt-9", "llama_31_8b", "gpt-4o", "gpt-4o", "", "gpt-4o-mini"]),
        "input_tokens": column(["1200", "", 50, " 1,300 ", -5, "lots", 10, 512.4]),
        "output_tokens": 200,
    }
    values = sheets(client, {"args": args})["values"]
    expected = impact_totals(
        client,
        [
            {"model_id": "gpt-4o", "input_tokens": 1200, "output_tokens": 200},
            {"model_id": "llama_31_8b", "input_tokens": 1300, "output_tokens": 200},
            {"model_id": "gpt-4o-mini", "input_tokens": 512, "output_tokens": 200},
        ],
    )
    assert values[0] == expected[0]
    assert values[1] == ["", "", ""]  # a blank line in the data
    assert values[2][0].startswith("#ERROR unknown model 'gpt-9' (did you mean") and values[2][1:] == ["", ""]
    assert values[3] == expected[1]
    assert values[4] == ["#ERROR input_tokens: must be 0 or more, got -5", "", ""]
    assert values[5] == ["#ERROR input_tokens: expected a number, got 'lots'", "", ""]
    assert values[6] == ["#ERROR model: blank (give a model id such as gpt-4o)", "", ""]
    assert values[7] == expected[2]  # an average token count rounds to the nearest whole token


def test_scalars_broadcast_and_a_one_cell_range_counts_as_a_scalar(client: FlaskClient) -> None:
    answer = sheets(
        client,
        {
            "args": {
                "model": "llama_31_8b",
                "input_tokens": column([10, 20, 30]),
                "output_tokens": [[7]],
                "task": "chat",
            }
        },
    )
    rows = [{"model_id": "llama_31_8b", "input_tokens": n, "output_tokens": 7, "task": "chat"} for n in (10, 20, 30)]
    assert answer["values"] == impact_totals(client, rows)
    # A scalar call on blank cells (a formula filled down past the data) is a blank row, not an error.
    assert sheets(client, {"args": {"model": "", "input_tokens": "", "output_tokens": None}})["values"] == [
        ["", "", ""]
    ]


def test_hosting_and_location_spellings(client: FlaskClient) -> None:
    answer = sheets(
        client,
        {
            "args": {
                "model": "gpt-4o",
                "input_tokens": 100,
                "output_tokens": 100,
                "hosting": column(list(HOSTINGS)),
                "location": column(["IN", "US-CA", "us-east-1", "gcp:europe-west1"]),
            }
        },
    )
    places = [{"country": "IN"}, {"country": "US", "region": "CA"}, {"cloud_region": "us-east-1"}]
    places.append({"cloud_id": "gcp", "cloud_region": "europe-west1"})
    rows = [
        {"model_id": "gpt-4o", "input_tokens": 100, "output_tokens": 100, **hosting, **place}
        for hosting, place in zip(HOSTINGS.values(), places, strict=True)
    ]
    assert answer["values"] == impact_totals(client, rows)
    bad = sheets(client, {"args": {"model": "gpt-4o", "hosting": "aws-bedrok", "location": "XX"}})["values"][0][0]
    assert bad.startswith("#ERROR hosting: 'aws-bedrok' is not a managed service, node or cloud:instance")
    assert "did you mean aws-bedrock" in bad
    unknown_country = sheets(client, {"args": {"model": "gpt-4o", "location": "XX"}})["values"][0][0]
    assert unknown_country.startswith("#ERROR unknown country 'XX'")


def test_metric_picks_columns(client: FlaskClient) -> None:
    args = {"model": "gpt-4o", "input_tokens": 500, "output_tokens": 500}
    full = client.post("/v1/impact", json={"rows": [{"model_id": "gpt-4o", "input_tokens": 500, "output_tokens": 500}]})
    row = full.json["rows"][0]
    one = sheets(client, {"args": args, "metric": "gco2e"})
    assert one["columns"] == ["gco2e"] and one["values"] == [[default_three(row["total_impact"])[1]]]
    every = sheets(client, {"args": args, "metric": "ALL"})
    assert every["columns"] == list(ALL_COLUMNS) and len(every["values"][0]) == len(ALL_COLUMNS) == 19
    named = dict(zip(every["columns"], every["values"][0], strict=True))
    assert named["usage_gco2e"] == row["total_impact"]["usage_emissions_gco2e"]
    assert named["embodied_water_ml"] == row["total_impact"]["embodied_water_ml"]
    assert named["training_energy_wh"] == row["training_impact"]["usage_energy_wh"]
    assert named["inference_gco2e"] == (
        row["inference_impact"]["usage_emissions_gco2e"] + row["inference_impact"]["embodied_emissions_gco2e"]
    )
    listed = sheets(client, {"args": args, "metric": "water, energy_wh"})
    assert listed["columns"] == ["water_ml", "energy_wh"]


def test_everyday_equivalences_divide_the_sums_by_their_sourced_factors(client: FlaskClient) -> None:
    args = {"model": [["gpt-4o"], ["llama_31_8b"]], "input_tokens": 500, "output_tokens": 500}
    sums = sheets(client, {"args": args})["values"]
    answer = sheets(client, {"args": args, "metric": "km_by_car, phone_charges, showers"})
    assert answer["columns"] == ["km_by_car", "phone_charges", "showers"]
    for (energy, gco2e, water), (km, charges, showers) in zip(sums, answer["values"], strict=True):
        # EPA: 400 g CO2 per mile = 248.5 g per km; EPA: 14.46 Wh - 22 h x 0.13 W = 11.60 Wh per smartphone
        # charge; EPA WaterSense: 65.1 L per shower.
        assert km == pytest.approx(gco2e / 248.548, rel=1e-5)
        assert charges == pytest.approx(energy / 11.60, rel=1e-12)
        assert showers == pytest.approx(water / 65_100, rel=1e-12)
    assert "km_by_car" not in sheets(client, {"args": args, "metric": "all"})["columns"]


@pytest.mark.parametrize(
    ("wh", "tokens", "label"),
    [
        (0.25, 1000, "A"),
        (0.2501, 1000, "B"),
        (0.1, 200, "B"),
        (1.0, 1000, "C"),
        (0.3, 100, "E"),
        (8.0, 1000, "F"),
        (8.01, 1000, "G"),
        (5.0, 0, ""),
        (5.0, None, ""),
    ],
)
def test_energy_class_bands(wh: float, tokens: int | None, label: str) -> None:
    from server.pipeline.equivalences import energy_class

    # Wh per 1,000 output tokens: A <= 0.25, then doubling to F <= 8, G above; no output tokens, no class.
    assert energy_class(wh, tokens) == label


def test_energy_class_of_a_line_reads_its_inference_energy_per_output_token(client: FlaskClient) -> None:
    args = {"model": [["llama_31_8b"], ["llama_31_405b"], ["gpt-4o"]], "input_tokens": 500, "output_tokens": 300}
    body = {"args": args, "metric": "inference_energy_wh, energy_class"}
    values = sheets(client, body)["values"]
    for wh, label in values:
        per_1000 = wh * 1000 / 300
        bands = [("A", 0.25), ("B", 0.5), ("C", 1), ("D", 2), ("E", 4), ("F", 8)]
        assert label == next((name for name, upper in bands if per_1000 <= upper), "G")
    assert len({label for _, label in values}) >= 2  # the three models do not share one class
    image = sheets(client, {"args": {"model": "stable_diffusion_3_medium", "task": "text-to-image"}, "metric": "class"})
    assert image["columns"] == ["energy_class"] and image["values"] == [[""]]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"args": {"model": "gpt-4o"}, "metric": "co2"}, "metric", "unknown metric 'co2' (did you mean gco2e?)"),
        ({"args": {"model": "gpt-4o"}, "metric": [["gco2e"]]}, "metric", "not a range"),
        ({"args": {"model": [["a", "b"]]}}, "model", "single column (the range has 2 columns)"),
        (
            {"args": {"model": column(["a", "b"]), "input_tokens": column([1, 2, 3])}},
            "model",
            "different heights (model 2, input_tokens 3 rows)",
        ),
        ({"args": {"model": column(["gpt-4o"] * (MAX_LINES + 1))}}, "lines", "at most 10000 lines"),
        ({"args": {"modle": "gpt-4o"}}, "args.modle", "unknown argument 'modle'"),
        ({"args": {"input_tokens": 5}}, "args.model", "required"),
        ({"function": "SCOPE3_IMPACT_TABLE"}, "table", "required for SCOPE3_IMPACT_TABLE"),
        ({"function": "SCOPE3_IMPACT_TABLE", "table": [["modle_id"], ["x"]]}, "table.0.0", "(did you mean model_id or"),
        ({"function": "SCOPE3_IMPACT_TABLE", "table": [["", ""], ["x", "y"]]}, "table", "must name the fields"),
        ({"function": "SCOPE3_IMPAKT", "args": {}}, "function", "SCOPE3_IMPACT"),
    ],
)
def test_whole_call_problems_are_400_naming_the_field(
    client: FlaskClient, body: dict[str, Any], field: str, words: str
) -> None:
    response = client.post("/v1/sheets/impact", json=body)
    assert response.status_code == 400, response.json
    assert response.json["details"]["field"] == field
    assert words in response.json["message"]


def test_the_table_form_over_mixed_tasks(client: FlaskClient) -> None:
    header = [
        "model_id",
        "Task",
        "input tokens",
        "output_tokens",
        "output_images",
        "input_audio_seconds",
        "output_video_frames",
        "output_video_resolution",
        "utc_datetime",
        "location",
        "",
    ]
    table = [header]
    rows: list[dict[str, Any]] = []
    rng = random.Random(3)
    for i in range(100):
        kind = i % 4
        when = ["2024-05-01T00:00:00.000Z", 45413, ""][i % 3]
        place = rng.choice(["FR", "US-NY", "us-east-1", ""])
        cells_ = {
            0: ["gpt-4o", "text-generation", rng.randint(1, 5000), str(rng.randint(1, 900)), "", "", "", ""],
            1: ["stable_diffusion_xl_base_1_0", "Text to image", "", "", "1024x1024, 512 x 512", "", "", ""],
            2: ["whisper-1", "speech_to_text", "", "", "", rng.randint(1, 600), "", ""],
            3: ["wan2_1_t2v_1_3b", "text-to-video", 40, "", "", "", 81, 480],
        }[kind]
        table.append([*cells_, when, place, "ignored: no header"])
        row: dict[str, Any] = {"model_id": cells_[0]}
        if kind == 0:
            row.update(task="text-generation", input_tokens=cells_[2], output_tokens=int(cells_[3]))
        elif kind == 1:
            row.update(task="text-to-image", output_images=["1024x1024", "512x512"])
        elif kind == 2:
            row.update(task="speech-to-text", input_audio_seconds=cells_[5])
        else:
            row.update(task="text-to-video", input_tokens=40, output_video_frames=81, output_video_resolution=480)
        if when:
            row["utc_datetime"] = "2024-05-01T00:00:00Z"
        row.update(LOCATIONS.get(place, {"country": place}) if place else {})
        rows.append(row)
    answer = sheets(client, {"function": "SCOPE3_IMPACT_TABLE", "table": table})
    assert answer["lines"] == 100 and answer["errors"] == 0
    assert answer["values"] == impact_totals(client, rows)


def test_table_lines_with_bad_cells_keep_the_rest(client: FlaskClient) -> None:
    table = [
        ["model", "input_tokens", "output_images", "utc_datetime"],
        ["gpt-4o", 10, "", ""],
        ["stable_diffusion_xl_base_1_0", "", "big", ""],
        ["gpt-4o", 10, "", "not a date"],
        ["", "", "", ""],
        ["gpt-4o", 10, "", True],
    ]
    values = sheets(client, {"function": "SCOPE3_IMPACT_TABLE", "table": table})["values"]
    assert isinstance(values[0][0], float)
    assert (
        values[1][0] == "#ERROR output_images: expected sizes like 1024x1024 (comma-separated for several), got 'big'"
    )
    assert values[2][0].startswith("#ERROR utc_datetime: ")
    assert values[3] == ["", "", ""]
    assert values[4][0] == "#ERROR utc_datetime: expected a date, got TRUE"


def test_the_token_count_path_equals_run_row(catalog: Catalog) -> None:
    pipeline = Pipeline(catalog)
    template = ImpactRow(model_id="llama_31_70b", managed_service_id="aws-bedrock", country="DE")
    counts = [(0, 1), (10, 0), (None, 300), (5000, None), (123, 456)]
    grouped = pipeline.run_token_counts(template, counts)
    for (input_tokens, output_tokens), result in zip(counts, grouped, strict=True):
        single = pipeline.run_row(
            template.model_copy(update={"input_tokens": input_tokens, "output_tokens": output_tokens})
        )
        assert (result.inference, result.training, result.gpu_energy_j) == (
            single.inference,
            single.training,
            single.gpu_energy_j,
        )
    video = pipeline.run_token_counts(ImpactRow(model_id="wan2_1_t2v_1_3b", task="text-to-video"), [(1, 1), (2, 2)])
    assert [result.error.field for result in video if result.error] == ["output_video_frames"] * 2


def test_cells_as_sheets_sends_them() -> None:
    assert cells.number(" 1,200 ", "n") == 1200.0 and cells.number("1.5e3", "n") == 1500.0
    assert cells.number("12\u00a0000", "n") == 12000.0  # a non-breaking space as thousands separator
    assert cells.count(512.5, "n") == 512 and cells.count(513.5, "n") == 514  # to the nearest, ties to even
    for bad in (True, "1,2,3", "ten", ""):
        with pytest.raises(cells.FieldError, match=r"^n: expected a number"):
            cells.number(bad, "n")
    assert cells.task(" Text Generation ") == "text-generation" and cells.task("TEXT_TO_VIDEO") == "text-to-video"
    with pytest.raises(cells.FieldError, match="did you mean text-generation"):
        cells.task("text-generaton")
    assert cells.image_sizes(f"1024x1024; 512 {cells.TIMES_SIGN} 768", "f") == ("1024x1024", "512x768")
    # Serial 45413 is 2024-05-01 in Sheets (days since 1899-12-30); a fraction is the time of day.
    assert cells.timestamp(45413.5, "t") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert cells.text(1234.0, "model") == "1234"


def test_a_user_sees_their_own_model_in_sheets_and_the_catalog_tab(tmp_path: Path) -> None:
    app = create_app(settings_for_tests(f"sqlite:///{tmp_path / 'sheets.sqlite3'}"))
    with app.extensions["services"].db.write() as session:
        alice = authorized(app.test_client(), create_key(session, "alice"))
        bob = authorized(app.test_client(), create_key(session, "bob"))
    assert alice.post("/model", json={"id": "alice-llm", "total_params_billions": 13}).status_code == 201
    values = sheets(alice, {"args": {"model": "alice-llm", "input_tokens": 100, "output_tokens": 10}})["values"]
    assert isinstance(values[0][0], float)
    other = sheets(bob, {"args": {"model": "alice-llm", "input_tokens": 100}})["values"][0][0]
    assert other.startswith("#ERROR unknown model 'alice-llm'")

    tab = alice.get("/v1/sheets/catalog/models").json
    SheetsTableResponse.model_validate(tab)
    assert tab["values"][0] == list(MODEL_COLUMNS)
    ids = [row[0] for row in tab["values"][1:]]
    assert "alice-llm" in ids and "gpt-4o" in ids
    assert "alice-llm" not in [row[0] for row in bob.get("/v1/sheets/catalog/models").json["values"][1:]]
    gpus = bob.get("/v1/sheets/catalog/GPUs").json["values"]
    assert gpus[0][0] == "id" and len(gpus) > 10
    missing = bob.get("/v1/sheets/catalog/planets")
    assert missing.status_code == 404 and "choose models, gpus, nodes" in missing.json["message"]
    assert app.test_client().get("/v1/sheets/catalog/models").status_code == 401
    assert app.test_client().post("/v1/sheets/impact", json={"args": {"model": "x"}}).status_code == 401
    app.extensions["services"].db.dispose()


def test_every_response_carries_the_server_time(client: FlaskClient) -> None:
    response = client.post("/v1/sheets/impact", json={"args": {"model": "gpt-4o"}})
    name, duration = response.headers["Server-Timing"].split(";dur=")
    assert name == "app" and float(duration) > 0


cell_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["gpt-4o", "1,200", "US-NY", "aws-bedrock", "1024x1024", "chat", " ", "45413"]),
)
argument = st.one_of(cell_values, st.lists(st.lists(cell_values, min_size=1, max_size=2), max_size=4))


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app(settings_for_tests(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"))
    yield app
    app.extensions["services"].db.dispose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    args=st.dictionaries(
        st.sampled_from(["model", "input_tokens", "output_tokens", "task", "hosting", "location"]), argument
    ),
    table=st.lists(st.lists(cell_values, max_size=4), max_size=4),
    header=st.lists(st.sampled_from(["model_id", "input_tokens", "output_images", "utc_datetime", "location", ""])),
    metric=st.one_of(st.none(), st.sampled_from(["gco2e", "all", "nope"]), st.integers()),
)
def test_no_input_makes_a_500(
    fuzz_app: Flask, args: dict[str, Any], table: list[list[Any]], header: list[str], metric: Any
) -> None:
    from tests.conftest import ADMIN_KEY

    client = authorized(fuzz_app.test_client(), ADMIN_KEY)
    for body in (
        {"args": {"model": "gpt-4o", **args}, "metric": metric},
        {"function": "SCOPE3_IMPACT_TABLE", "table": [header, *table], "metric": metric},
    ):
        response = client.post("/v1/sheets/impact", json=body)
        assert response.status_code in (200, 400), (body, response.json)
        if response.status_code == 200:
            answer = response.json
            assert all(len(row) == len(answer["columns"]) for row in answer["values"])


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=10, max_size=10))
def test_the_default_row_equals_the_sums_of_the_total_to_the_bit(values: list[float]) -> None:
    inference, training = Impacts(*values[:5]), Impacts(*values[5:])
    total = inference + training
    generic = [
        total.usage_energy_wh,
        total.usage_emissions_gco2e + total.embodied_emissions_gco2e,
        total.usage_water_ml + total.embodied_water_ml,
    ]
    assert row_reader(DEFAULT_METRICS)(inference, training) == generic
    assert row_reader(("water_ml", "gco2e"))(inference, training) == [generic[2], generic[1]]


def test_compare_on_5000_lines_is_one_call_and_the_difference_of_two_impact_ranges(client: FlaskClient) -> None:
    rng = random.Random(16)
    models = [[rng.choice(["gpt-4o", "llama_31_8b", "claude-3-5-sonnet", "gemini-2.5-flash"])] for _ in range(5000)]
    inputs = [[rng.randint(0, 4000)] for _ in range(5000)]
    outputs = [[rng.randint(1, 2000)] for _ in range(5000)]
    alt_models = [[rng.choice(["gpt-4o-mini", "", "llama_31_70b"])] for _ in range(5000)]
    args = {"model": models, "input_tokens": inputs, "output_tokens": outputs}
    body = {"function": "SCOPE3_COMPARE", "metric": "gco2e, energy_wh"}
    body["args"] = {**args, "alt_model": alt_models, "alt_hosting": "", "alt_location": "FR"}
    answer = sheets(client, body)
    assert answer["columns"] == [f"{m}_{s}" for m in ("gco2e", "energy_wh") for s in ("alt", "difference", "ratio")]
    assert answer["lines"] == 5000 and answer["errors"] == 0
    mine = sheets(client, {"args": args, "metric": "gco2e, energy_wh"})["values"]
    chosen = [[alt[0] or model[0]] for alt, model in zip(alt_models, models, strict=True)]
    theirs = sheets(client, {"args": {**args, "model": chosen, "location": "FR"}, "metric": "gco2e, energy_wh"})
    for row, base, alt in zip(answer["values"], mine, theirs["values"], strict=True):
        for k in range(2):
            assert row[3 * k] == alt[k]
            assert row[3 * k + 1] == alt[k] - base[k]
            assert row[3 * k + 2] == alt[k] / base[k]


def test_compare_errors_blanks_and_defaults(client: FlaskClient) -> None:
    body = {
        "function": "SCOPE3_COMPARE",
        "args": {
            "model": [["gpt-4o"], ["gpt-9"], ["gpt-4o"], [""], ["gpt-4o"]],
            "input_tokens": [[100], [100], [100], [""], [0]],
            "output_tokens": [[100], [100], [100], [""], [0]],
            "alt_model": [["llama_31_8b"], ["llama_31_8b"], ["llama-9"], [""], [""]],
        },
        "metric": "energy_wh",
    }
    values = sheets(client, body)["values"]
    assert (
        values[0][0]
        == sheets(
            client, {"args": {"model": "llama_31_8b", "input_tokens": 100, "output_tokens": 100}, "metric": "energy_wh"}
        )["values"][0][0]
    )
    assert values[1][0].startswith("#ERROR unknown model 'gpt-9'")
    assert values[2][0].startswith("#ERROR alternative: unknown model 'llama-9'")
    assert values[3] == ["", "", ""]
    # No tokens: the same model on the same defaults uses nothing; no ratio of zero to zero.
    assert values[4][1] == 0 and values[4][2] == ""
    refused = client.post("/v1/sheets/impact", json={**body, "metric": "energy_class"})
    assert refused.status_code == 400 and refused.json["details"]["reason"] == "not_a_number"
    wide = client.post("/v1/sheets/impact", json={**body, "metric": "all"})
    assert wide.status_code == 400 and wide.json["details"]["reason"] == "too_many_metrics"
    uneven = client.post(
        "/v1/sheets/impact",
        json={"function": "SCOPE3_COMPARE", "args": {"model": [["gpt-4o"]] * 3, "alt_location": [["FR"]] * 2}},
    )
    assert uneven.status_code == 400 and "different heights" in uneven.json["message"]
    empty = {"function": "SCOPE3_COMPARE", "args": {"model": "gpt-4o", "input_tokens": []}}
    assert sheets(client, empty)["values"] == []  # an empty range of counts: no lines, on either side
    no_place = {"function": "SCOPE3_COMPARE", "args": {"model": [[""]], "alt_location": []}}
    assert sheets(client, no_place)["values"] == []  # an empty alternative range: no lines (was a 500)
    unknown = client.post(
        "/v1/sheets/impact", json={"function": "SCOPE3_COMPARE", "args": {"model": "x", "hosting": 1}}
    )
    assert unknown.status_code == 400 and unknown.json["details"]["field"] == "args.hosting"


@pytest.mark.parametrize(
    "args",
    [
        {"model": "gpt-4o", "input_tokens": 500, "output_tokens": 300, "location": "FR"},
        {"model": "llama_31_405b", "input_tokens": 2000, "output_tokens": 800, "hosting": "aws:p5.48xlarge"},
        {"model": "stable_diffusion_3_medium", "task": "text-to-image"},
    ],
)
def test_explain_lays_a_line_out_in_parts_that_add_up_to_its_cells(client: FlaskClient, args: dict[str, Any]) -> None:
    metrics = "energy_wh, gco2e, water_ml, energy_wh_low, energy_wh_high, gco2e_low, gco2e_high"
    cells = dict(zip(metrics.split(", "), sheets(client, {"args": args, "metric": metrics})["values"][0], strict=True))
    response = client.post("/v1/sheets/explain", json={"args": args})
    assert response.status_code == 200, response.json
    answer = SheetsExplainResponse.model_validate(response.json)
    for name in ("energy_wh", "gco2e", "water_ml"):
        explained = answer.metrics[name]
        assert explained.value == cells[name]
        assert sum(part.value for part in explained.parts) == pytest.approx(cells[name], rel=1e-12)
        assert sum(part.share for part in explained.parts) == pytest.approx(1.0, rel=1e-12)
    assert (answer.metrics["energy_wh"].low, answer.metrics["energy_wh"].high) == (
        cells["energy_wh_low"],
        cells["energy_wh_high"],
    )
    assert answer.metrics["gco2e"].low == cells["gco2e_low"] and answer.metrics["gco2e"].high == cells["gco2e_high"]
    assert (
        answer.methodology_version
        == client.post("/v1/sheets/impact", json={"args": args}).headers["Scope3-Methodology-Version"]
    )
    whats = [source["what"] for source in answer.sources]
    assert whats[0] == f"model {answer.model['id']}" and any(what.startswith("grid ") for what in whats)
    assert all(len(source["source"]) > 10 for source in answer.sources)


def test_explain_names_the_headline_figure_of_each_column(client: FlaskClient) -> None:
    body = {"args": {"model": "gpt-4o", "output_tokens": 10}, "metric": "training_gco2e, showers, energy_class, all"}
    answer = client.post("/v1/sheets/explain", json=body).json
    named = answer["headlines"]
    assert list(named) == answer["columns"] and len(named) == 21  # all but training_gco2e, listed once
    assert (named["training_gco2e"], named["showers"], named["energy_class"]) == ("gco2e", "water_ml", "energy_wh")
    assert (named["usage_water_ml"], named["energy_wh_high"], named["embodied_gco2e"]) == (
        "water_ml",
        "energy_wh",
        "gco2e",
    )


def test_explain_takes_one_good_line(client: FlaskClient) -> None:
    table = {"function": "SCOPE3_IMPACT_TABLE", "table": [["model", "output_tokens"], ["gpt-4o", 10]]}
    assert client.post("/v1/sheets/explain", json=table).status_code == 200
    for body, reason in (
        ({"args": {"model": [["gpt-4o"], ["gpt-4o"]]}}, "not_one_line"),
        ({"args": {"model": ""}}, "blank_line"),
        ({"args": {"model": "gpt-4o", "input_tokens": "many"}}, "bad_line"),
        ({"args": {"model": "gpt-9"}}, "unknown_model"),
        ({"function": "SCOPE3_COMPARE", "args": {"model": "gpt-4o"}}, None),
    ):
        answer = client.post("/v1/sheets/explain", json=body)
        assert answer.status_code == 400, (body, answer.json)
        if reason:
            assert answer.json["details"]["reason"] == reason, answer.json
