"""Datacenters (the Scope3 API's "Manage datacenters") and `datacenter_id` in estimates, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.app import create_app
from server.catalog.store import Catalog
from server.engine import constants as c
from server.schemas.catalog import Datacenter
from tests.conftest import ADMIN_KEY, authorized, keyed_client, settings_for_tests

SITE = {"id": "coal-site", "name": "A site on a coal grid", "pue": 1.5, "gco2e_per_kwh": 800, "country": "PL"}
ROW = {"model_id": "llama_31_8b", "input_tokens": 1000, "output_tokens": 500}


@pytest.fixture()
def app(database_url: str) -> Iterator[Flask]:
    made = create_app(settings_for_tests(database_url))
    yield made
    made.extensions["services"].db.dispose()


def account_id(app: Flask, name: str) -> int:
    from sqlalchemy import select

    from server.db.tables import Account

    with app.extensions["services"].db.read() as session:
        found: int = session.scalars(select(Account.id).where(Account.name == name)).one()
    return found


def impact(client: FlaskClient, **row: Any) -> dict[str, Any]:
    response = client.post("/v1/impact?debug=true", json={"rows": [row]})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()["rows"][0]
    return body


def test_crud_paging_and_isolation(app: Flask) -> None:
    alice, bob = keyed_client(app, "alice"), keyed_client(app, "bob")
    admin = authorized(app.test_client(), ADMIN_KEY)
    shipped = alice.get("/datacenter?limit=100")
    assert shipped.status_code == 200 and len(shipped.get_json()["datacenters"]) == 100
    total = int(shipped.headers["X-Total-Count"])
    assert total >= 133 and 'rel="next"' in shipped.headers["Link"]
    for item in shipped.get_json()["datacenters"]:
        Datacenter.model_validate(item)
        assert "customer_id" not in item  # shown to admins only

    created = alice.post("/datacenter", json=SITE | {"location": {"lat": 50.3, "lng": 18.7}})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["pue"] == 1.5 and body["location"] == {"lat": 50.3, "lng": 18.7} and body["created_by"] == "alice"
    assert alice.get("/datacenter/coal-site").get_json()["name"] == SITE["name"]
    assert int(alice.get("/datacenter").headers["X-Total-Count"]) == total + 1

    # Another user does not see it (404, not 403: ids do not leak); nobody but admins changes a global one.
    assert bob.get("/datacenter/coal-site").status_code == 404
    assert bob.put("/datacenter/coal-site", json={"pue": 1.1}).status_code == 404
    assert int(bob.get("/datacenter").headers["X-Total-Count"]) == total
    refused = bob.put("/datacenter/aws-us-east-1", json={"pue": 1.9})
    assert refused.status_code == 403 and refused.get_json()["details"]["reason"] == "global_entry"
    assert admin.get("/datacenter/coal-site").get_json()["customer_id"] == account_id(app, "alice")

    changed = alice.put("/datacenter/coal-site", json={"pue": 1.6, "locked": True})
    assert changed.status_code == 200 and changed.get_json()["pue"] == 1.6
    locked = alice.put("/datacenter/coal-site", json={"pue": 1.2})
    assert locked.status_code == 403 and locked.get_json()["details"]["reason"] == "locked"
    assert alice.delete("/datacenter/coal-site").status_code == 403
    assert alice.put("/datacenter/coal-site", json={"locked": False}).status_code == 200
    assert alice.delete("/datacenter/coal-site").status_code == 204
    assert alice.get("/datacenter/coal-site").status_code == 404

    for bad, field in (
        ({**SITE, "pue": 3.5}, "pue"),
        ({**SITE, "gco2e_per_kwh": 2001}, "gco2e_per_kwh"),
        ({**SITE, "name": ""}, "name"),
        ({**SITE, "embodied_water_l": -1}, "embodied_water_l"),
        ({**SITE, "country": "XX"}, "country"),
        ({**SITE, "color": "red"}, "color"),
    ):
        answer = alice.post("/datacenter", json=bad)
        assert answer.status_code == 400 and answer.get_json()["details"]["field"] == field, (bad, answer.get_json())
    assert alice.post("/datacenter", json=SITE).status_code == 201
    assert alice.post("/datacenter", json=SITE).status_code == 409


def test_a_row_on_a_pue_1_5_coal_datacenter_equals_a_hand_computation(app: Flask, catalog: Catalog) -> None:
    alice = keyed_client(app, "alice")
    assert alice.post("/datacenter", json=SITE).status_code == 201
    plain = impact(alice, **ROW)
    on_site = impact(alice, **ROW, datacenter_id="coal-site")
    # The same hardware: IT energy = energy / PUE of the default service's site.
    service = catalog.services[catalog.models["llama_31_8b"].row.default_service or "aws-bedrock"]
    it_wh = plain["inference_impact"]["usage_energy_wh"] / service.pue
    energy = it_wh * 1.5
    assert on_site["inference_impact"]["usage_energy_wh"] == pytest.approx(energy, rel=1e-12)
    # Emissions of the energy: facility kWh x 800 g; water: no WUE given and no cloud -> none on site, plus
    # Poland's generation water.
    usage = on_site["inference_impact"]
    assert usage["usage_emissions_gco2e"] == pytest.approx(energy / c.WH_PER_KWH * 800, rel=1e-12)
    grid_water = catalog.grid_water["PL"]
    assert usage["usage_water_ml"] == pytest.approx(energy / c.WH_PER_KWH * grid_water * c.ML_PER_L, rel=1e-12)
    steps = [step["description"] for step in on_site["debug"]["steps"]]
    assert any("datacenter coal-site" in step and "PUE 1.5" in step for step in steps), steps
    assert on_site["debug"]["grid_mix"]["country"] == "PL"


def test_a_sites_building_adds_its_share_per_it_kwh_and_needs_its_capacity(app: Flask) -> None:
    alice = keyed_client(app, "alice")
    # The spec's embodied totals with nothing to share them over would be kept and silently unused: refused.
    refused = alice.post("/datacenter", json=SITE | {"embodied_emissions_kgco2e": 4_500_000.0})
    assert refused.status_code == 400 and refused.get_json()["details"]["field"] == "it_capacity_mw"
    assert "IT capacity" in refused.get_json()["message"]
    assert alice.post("/datacenter", json=SITE).status_code == 201
    later = alice.put("/datacenter/coal-site", json={"embodied_water_l": 9_000_000.0})
    assert later.status_code == 400 and later.get_json()["details"]["field"] == "it_capacity_mw"
    bare = impact(alice, **ROW, datacenter_id="coal-site")

    # A 1 MW site built for 4,500 t CO2e (Currie & Brown 2024: "up to 4500 mtCO2e per MW") and 9,000 m3 of water,
    # over the default 20 years at 0.56 load: 98,179,200 IT kWh in its life.
    built = {"embodied_emissions_kgco2e": 4_500_000.0, "embodied_water_l": 9_000_000.0, "it_capacity_mw": 1.0}
    changed = alice.put("/datacenter/coal-site", json=built)
    assert changed.status_code == 200 and changed.get_json()["it_capacity_mw"] == 1.0
    on_site = impact(alice, **ROW, datacenter_id="coal-site")
    life_it_kwh = 1000 * 20 * 365.25 * 24 * 0.56
    it_kwh = bare["inference_impact"]["usage_energy_wh"] / 1.5 / c.WH_PER_KWH
    added = {
        name: on_site["inference_impact"][name] - bare["inference_impact"][name]
        for name in ("embodied_emissions_gco2e", "embodied_water_ml", "usage_energy_wh")
    }
    assert added["embodied_emissions_gco2e"] == pytest.approx(it_kwh * 4.5e9 / life_it_kwh, rel=1e-9)
    assert added["embodied_water_ml"] == pytest.approx(it_kwh * 9e9 / life_it_kwh, rel=1e-9)
    assert added["usage_energy_wh"] == 0.0
    steps = [step["description"] for step in on_site["debug"]["steps"]]
    assert any("45.83 gCO2e and 91.67 mL water per IT kWh (1 MW over 20 years at 0.56 load)" in s for s in steps), steps

    # A longer life and a fuller site share the same building over more kWh.
    assert alice.put("/datacenter/coal-site", json={"use_life_years": 40.0, "average_load": 0.7}).status_code == 200
    longer = impact(alice, **ROW, datacenter_id="coal-site")
    embodied = "embodied_emissions_gco2e"
    share = longer["inference_impact"][embodied] - bare["inference_impact"][embodied]
    assert share == pytest.approx(it_kwh * 4.5e9 / (1000 * 40 * 365.25 * 24 * 0.7), rel=1e-9)
    for bad, field in (({"average_load": 1.2}, "average_load"), ({"it_capacity_mw": 0}, "it_capacity_mw")):
        answer = alice.put("/datacenter/coal-site", json=bad)
        assert answer.status_code == 400 and answer.get_json()["details"]["field"] == field, answer.get_json()


def test_unknown_ids_and_places_that_disagree_are_the_rows_error(client: FlaskClient, catalog: Catalog) -> None:
    rows = [
        {**ROW, "datacenter_id": "aws-us-esat-1"},
        {**ROW, "datacenter_id": "aws-us-east-1", "country": "FR"},
        {**ROW, "datacenter_id": "aws-us-east-1", "country": "US", "region": "NY"},
        {**ROW, "datacenter_id": "aws-us-east-1", "cloud_region": "eu-west-1"},
        {**ROW, "datacenter_id": "aws-us-east-1", "country": "US", "region": "VA", "cloud_region": "us-east-1"},
        {**ROW, "datacenter_id": "gcp-europe-west4"},
    ]
    answer = client.post("/v1/impact", json={"rows": rows}).get_json()["rows"]
    first = answer[0]["error"]
    assert first["code"] == "UNKNOWN_DATACENTER" and "(did you mean " in first["message"]
    assert "aws-us-east-1" in first["message"] and first["details"]["field"] == "datacenter_id"
    assert [row["error"]["details"]["field"] for row in answer[1:4]] == ["country", "region", "cloud_region"]
    assert all(row["error"]["code"] == "CONFLICTING_PLACE" for row in answer[1:4])
    assert "error" not in answer[4] and "error" not in answer[5]
    # A shipped datacenter is its cloud region's site: its fleet's PUE (over the service's) and the region's grid.
    by_region = client.post("/v1/impact", json={"rows": [{**ROW, "cloud_id": "gcp", "cloud_region": "europe-west4"}]})
    region_row = by_region.get_json()["rows"][0]["inference_impact"]
    site = answer[5]["inference_impact"]
    grid_of = lambda usage: usage["usage_emissions_gco2e"] / usage["usage_energy_wh"]  # noqa: E731
    assert grid_of(site) == pytest.approx(grid_of(region_row), rel=1e-12)
    plain = client.post("/v1/impact", json={"rows": [ROW]}).get_json()["rows"][0]["inference_impact"]
    service_pue = catalog.services[catalog.models["llama_31_8b"].row.default_service or ""].pue
    gcp_pue = catalog.clouds["gcp"].pue  # europe-west4 publishes no PUE of its own
    assert site["usage_energy_wh"] == pytest.approx(plain["usage_energy_wh"] / service_pue * gcp_pue, rel=1e-12)


def test_sheets_location_takes_a_datacenter(app: Flask) -> None:
    alice = keyed_client(app, "alice")
    assert alice.post("/datacenter", json=SITE).status_code == 201
    lines = [["llama_31_8b", 1000, 500, "coal-site"], ["llama_31_8b", 1000, 500, "aws-us-east-1"]]
    lines += [["llama_31_8b", 1000, 500, "us-east-1"], ["llama_31_8b", 1000, 500, "PL"]]
    table = [["model", "input_tokens", "output_tokens", "location"], *lines]
    answer = alice.post("/v1/sheets/impact", json={"function": "SCOPE3_IMPACT_TABLE", "table": table}).get_json()
    rows = [
        {**ROW, "datacenter_id": "coal-site"},
        {**ROW, "datacenter_id": "aws-us-east-1"},
        {**ROW, "cloud_region": "us-east-1"},
        {**ROW, "country": "PL"},
    ]
    expected = alice.post("/v1/impact", json={"rows": rows}).get_json()["rows"]
    for got, want in zip(answer["values"], expected, strict=True):
        total = want["total_impact"]
        assert got[0] == total["usage_energy_wh"]
        assert got[1] == total["usage_emissions_gco2e"] + total["embodied_emissions_gco2e"]
    # Another account's datacenter is not a place it can name: read as a cloud region, and unknown.
    bob = keyed_client(app, "bob")
    table = [["model", "input_tokens", "output_tokens", "location"], ["llama_31_8b", 1, 1, "coal-site"]]
    values = bob.post("/v1/sheets/impact", json={"function": "SCOPE3_IMPACT_TABLE", "table": table}).get_json()[
        "values"
    ]
    assert str(values[0][0]).startswith("#ERROR unknown cloud region 'coal-site'")


def test_the_datacenters_tab_lists_what_the_caller_sees(app: Flask, catalog: Catalog) -> None:
    from server.sync.columns import DATACENTER_COLUMNS

    alice = keyed_client(app, "alice")
    assert alice.post("/datacenter", json=SITE | {"location": {"lat": 50.3, "lng": 18.7}}).status_code == 201
    values = alice.get("/v1/sheets/catalog/datacenters").get_json()["values"]
    assert values[0] == list(DATACENTER_COLUMNS) and len(values) == len(catalog.datacenters) + 2
    mine = dict(zip(DATACENTER_COLUMNS, values[-1], strict=True))
    assert (mine["id"], mine["pue"], mine["lat"], mine["lng"], mine["country"]) == ("coal-site", 1.5, 50.3, 18.7, "PL")
    shipped = dict(zip(DATACENTER_COLUMNS, values[1], strict=True))
    assert shipped["locked"] is True and "region:" in shipped["source"]
    assert len(keyed_client(app, "bob").get("/v1/sheets/catalog/datacenters").get_json()["values"]) == len(values) - 1
