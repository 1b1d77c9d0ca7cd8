"""POST /: the BigQuery remote-function envelope."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from server.api.bigquery import CALL_ARGUMENTS


def call(**values: Any) -> list[Any]:
    return [values.get(name) for name in CALL_ARGUMENTS]


def bq(client: FlaskClient, calls: list[Any], **extra: Any) -> Any:
    return client.post(
        "/",
        json={
            "requestId": "abc",
            "caller": "//bigquery/jobs/1",
            "sessionUser": "a@b.c",
            "calls": calls,
            **extra,
        },
    )


def replies(client: FlaskClient, calls: list[Any]) -> list[dict[str, Any]]:
    response = bq(client, calls)
    assert response.status_code == 200, response.get_json()
    out = response.get_json()["replies"]
    assert len(out) == len(calls)
    return [orjson.loads(reply) for reply in out]


def impact_total(client: FlaskClient, row: dict[str, Any]) -> dict[str, float]:
    body = client.post("/v1/impact", json={"rows": [row]}).get_json()
    total: dict[str, float] = body["rows"][0]["total_impact"]
    return total


def test_a_call_equals_the_impact_endpoint(client: FlaskClient) -> None:
    got = replies(
        client,
        [
            call(
                model_id="gpt-4o",
                task="text-generation",
                input_tokens=100,
                output_tokens=50,
                cloud_region="us-central1",
                utc_datetime="2024-03-15T10:30:00Z",
            )
        ],
    )
    assert got[0] == impact_total(
        client,
        {
            "model_id": "gpt-4o",
            "task": "text-generation",
            "input_tokens": 100,
            "output_tokens": 50,
            "cloud_region": "us-central1",
            "utc_datetime": "2024-03-15T10:30:00Z",
        },
    )


def test_nulls_strings_for_integers_and_short_calls(client: FlaskClient) -> None:
    as_strings = call(model_id="llama_31_8b", input_tokens="100", output_tokens="500")
    as_ints = call(model_id="llama_31_8b", input_tokens=100, output_tokens=500)
    got = replies(client, [as_strings, as_ints, as_ints[:17], as_ints[:19]])
    assert got[0] == got[1] == got[2] == got[3]
    assert (
        got[0]["usage_energy_wh"]
        == impact_total(client, {"model_id": "llama_31_8b", "input_tokens": 100, "output_tokens": 500})[
            "usage_energy_wh"
        ]
    )


def test_images_as_strings(client: FlaskClient) -> None:
    one = call(
        model_id="stable_diffusion_xl_base_1_0",
        task="text-to-image",
        output_images="1024x1024",
        input_steps=30,
    )
    two = call(
        model_id="stable_diffusion_xl_base_1_0",
        task="text-to-image",
        output_images='["1024x1024","1024x1024"]',
        input_steps=30,
    )
    got = replies(client, [one, two])
    assert got[1]["usage_energy_wh"] == pytest.approx(2 * got[0]["usage_energy_wh"], rel=0.02)


def test_a_bad_call_among_good_ones(client: FlaskClient) -> None:
    good = call(model_id="gpt-4o", input_tokens=10, output_tokens=10)
    got = replies(
        client,
        [good, call(model_id="gpt-9", input_tokens=1), call(model_id="gpt-4o", input_tokens="x"), good],
    )
    assert got[0] == got[3] and "usage_energy_wh" in got[0]
    assert "gpt-9" in got[1]["error"] and got[1]["field"] == "model_id"
    assert got[2]["field"] == "input_tokens"


def test_a_thousand_calls_and_the_same_request_id_twice(client: FlaskClient) -> None:
    calls = [call(model_id="llama_31_8b", input_tokens=i, output_tokens=2 * i) for i in range(1000)]
    first = bq(client, calls)
    second = bq(client, calls)
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert len(first.get_json()["replies"]) == 1000


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"calls": 3}',
        b'{"requestId": "x"}',
        b'{"calls": [["too", "short"]]}',
        b'{"calls": [[' + b",".join([b"null"] * 22) + b"]]}",
        b'{"calls": [' + b",".join([b"[" + b",".join([b"null"] * 17) + b"]"] * 1001) + b"]}",
        b'{"calls": [], "userDefinedContext": "x"}',
    ],
)
def test_bad_envelopes_are_400_with_a_short_error_message(client: FlaskClient, body: bytes) -> None:
    response = client.post("/", data=body, content_type="application/json")
    assert response.status_code == 400
    message = response.get_json()["errorMessage"]
    assert message and len(response.data) < 1024


def test_the_references_9_argument_example_is_the_documented_short_form(client: FlaskClient) -> None:
    """The spec's example call: model, time, cloud region, country, region, task, input and output tokens, null."""
    example = ["gpt-4-turbo", "2024-03-15T10:30:00Z", "us-central1", "US", "CA", "text-generation", 100, 50, None]
    (short,) = replies(client, [example])
    full = call(
        model_id="gpt-4-turbo",
        utc_datetime="2024-03-15T10:30:00Z",
        cloud_region="us-central1",
        country="US",
        region="CA",
        task="text-generation",
        input_tokens=100,
        output_tokens=50,
    )
    assert short == replies(client, [full])[0]
    row = {
        "model_id": "gpt-4-turbo",
        "utc_datetime": "2024-03-15T10:30:00Z",
        "cloud_region": "us-central1",
        "country": "US",
        "region": "CA",
        "task": "text-generation",
        "input_tokens": 100,
        "output_tokens": 50,
    }
    assert short == impact_total(client, row)  # the same row through /v1/impact
    # Its ninth argument is input_images, the next field of the full order.
    with_image = replies(client, [[*example[:8], '["1024x1024"]']])[0]
    assert with_image["usage_energy_wh"] > short["usage_energy_wh"]


@pytest.mark.parametrize("length", [8, 10, 16, 22])
def test_other_lengths_are_refused_naming_both_forms(client: FlaskClient, length: int) -> None:
    response = bq(client, [[None] * length])
    assert response.status_code == 400
    message = response.get_json()["errorMessage"]
    assert f"calls[0]: {length} arguments; expected 17 to 21 arguments in the order model_id," in message
    assert "or the reference's short form of 9: model_id, utc_datetime, cloud_region" in message
    assert len(message) <= 900
