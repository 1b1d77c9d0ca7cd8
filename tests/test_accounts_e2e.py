"""Accounts end to end: gunicorn, the `scope3ai` client, SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from scope3ai.api.client import Client
from scope3ai.api.typesgen import (
    GPU,
    GPUCreateRequest,
    ImpactRequest,
    ImpactResponse,
    Model,
    ModelCreateRequest,
    Node,
    NodeCreateRequest,
)
from scope3ai.api.typesgen import ImpactRow as ClientRow

from server.db.database import Database
from tests.conftest import ADMIN_KEY, ROOT, GunicornServer

pytestmark = pytest.mark.e2e


def create_key(database_url: str, name: str) -> str:
    """`python -m server create-key NAME`: the key is the last line it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "server", "create-key", name],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def status_of(call: Any) -> int:
    try:
        call()
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code
    return 200


@pytest.fixture()
def server(database_url: str) -> Iterator[GunicornServer]:
    running = GunicornServer(workers=2, database_url=database_url, env={"LOG_LEVEL": "DEBUG"}, access_log=True)
    yield running
    running.stop()


def own_entries(client: Client, who: str) -> None:
    """A GPU, a node on it and a model with two aliases, all `who`'s."""
    gpu = client.create_gpu(
        GPUCreateRequest(
            id=f"{who}_gpu",
            name=f"{who}'s accelerator",
            max_power_w=500,
            embodied_emissions_kgco2e=150,
            embodied_water_mlh2o=200_000,
            performance_ratio_to_h200=0.5,
            ols_intercept=600,
            ols_coefficient_gpu_count=120,
        )
    )
    assert isinstance(gpu, GPU) and gpu.id == f"{who}_gpu"
    node = client.create_node(NodeCreateRequest(id=f"{who}-node", gpu_id=f"{who}_gpu", gpu_count=4, cpu_count=2))
    assert isinstance(node, Node) and node.gpu_id == f"{who}_gpu"
    model = client.create_model(
        ModelCreateRequest(id=f"{who}-llm", total_params_billions=13, aliases=[f"{who}-latest"])
    )
    assert isinstance(model, Model) and model.aliases == [f"{who}-latest"]
    client.execute_request(f"/model/{who}-llm/alias", method="PUT", json={"alias": f"{who}-prod"}, with_response=False)


def estimate(client: Client, **row: Any) -> ImpactResponse:
    request = ImpactRequest(rows=[ClientRow(input_tokens=500, output_tokens=200, **row)])
    response = client.get_impact(request, debug=True)
    assert isinstance(response, ImpactResponse)
    return response


def test_two_users_entries_work_for_them_and_are_404_for_the_other(server: GunicornServer) -> None:
    admin = Client(api_key=ADMIN_KEY, api_url=server.url)
    keys = {who: create_key(server.database_url, who) for who in ("alice", "bob")}
    users = {who: Client(api_key=key, api_url=server.url) for who, key in keys.items()}
    for who, client in users.items():
        own_entries(client, who)

    for who, other in (("alice", "bob"), ("bob", "alice")):
        me, them = users[who], users[other]
        # Mine, in my estimates: the alias finds my model, and my node (on my GPU) is the hardware used.
        mine = estimate(me, model_id=f"{who}-prod", node_id=f"{who}-node")
        row = mine.rows[0]
        assert row.error is None
        assert row.total_impact.usage_energy_wh > 0 and row.total_impact.embodied_emissions_gco2e > 0
        assert row.debug.model.id == f"{who}-llm"
        assert row.debug.hardware_node.id == f"{who}-node" and row.debug.hardware_node.gpu_id == f"{who}_gpu"
        # BigQuery, with the key in userDefinedContext (BigQuery cannot send headers).
        call = [f"{who}-latest", None, None, None, None, f"{who}-node", *[None] * 7, 100, 50, None, None]
        replies = httpx.post(
            server.url + "/", json={"calls": [call], "userDefinedContext": {"api_key": keys[who]}}
        ).json()["replies"]
        assert "usage_energy_wh" in replies[0], replies[0]
        # Not theirs: 404 on every read, and an unknown-model / unknown-node error in their estimates.
        for path in (f"/model/{who}-llm", f"/model/{who}-prod", f"/gpu/{who}_gpu", f"/node/{who}-node"):
            assert status_of(lambda path=path, them=them: them.execute_request(path)) == 404, path
        theirs = estimate(them, model_id=f"{who}-llm")
        assert theirs.has_errors and "unknown model" in theirs.rows[0].error.message
        theirs = estimate(them, model_id="llama_31_8b", node_id=f"{who}-node")
        assert "unknown node" in theirs.rows[0].error.message
        # Nor can they change or delete it (still 404: ids do not leak).
        owned = f"/model/{who}-llm"
        assert status_of(lambda owned=owned, them=them: them.execute_request(owned, method="DELETE")) == 404

    alice, bob = users["alice"], users["bob"]
    # Global entries: users may not write them (403), ids are unique across accounts and the catalog (409).
    assert status_of(lambda: bob.execute_request("/model/gpt-4o", method="PUT", json={"name": "x"})) == 403
    assert status_of(lambda: bob.execute_request("/gpu/h100", method="DELETE")) == 403
    assert status_of(lambda: bob.execute_request("/node/aws-p5-48xlarge", method="DELETE")) == 403
    assert status_of(lambda: bob.create_model(ModelCreateRequest(id="gpt-4o", total_params_billions=1))) == 409
    assert status_of(lambda: bob.create_model(ModelCreateRequest(id="alice-llm", total_params_billions=1))) == 409
    assert (
        status_of(
            lambda: bob.create_model(ModelCreateRequest(id="b2", total_params_billions=1, aliases=["alice-prod"]))
        )
        == 409
    )
    duplicate_alias = {"alias": "alice-latest"}
    assert status_of(lambda: bob.execute_request("/model/bob-llm/alias", method="PUT", json=duplicate_alias)) == 409
    node_on_instance = NodeCreateRequest(
        id="bob-p5", gpu_id="h100", gpu_count=8, cpu_count=96, cloud_id="aws", cloud_instance_id="p5.48xlarge"
    )
    assert status_of(lambda: bob.create_node(node_on_instance)) == 403

    # Admins see everyone's entries.
    assert admin.execute_request("/model/alice-llm", response_model=Model).customer_id != 0

    # Pages of at most 100; every page together holds the global catalog and my entries, not the other's.
    first = alice.list_models()
    assert len(first.models) <= 100
    ids = all_ids(server.url, keys["alice"], "/model", "models")
    assert "alice-llm" in ids and "bob-llm" not in ids and "gpt-4o" in ids
    gpu_ids = all_ids(server.url, keys["bob"], "/gpu", "gpus")
    assert "bob_gpu" in gpu_ids and "alice_gpu" not in gpu_ids
    custom_nodes = bob.list_nodes(custom=True)
    assert [n.id for n in custom_nodes.nodes] == ["bob-node"]

    # Delete: 204, then 404 (the alias goes with it), and the name is free again.
    response = httpx.delete(server.url + "/model/alice-llm", headers={"Authorization": f"Bearer {keys['alice']}"})
    assert response.status_code == 204
    assert status_of(lambda: alice.execute_request("/model/alice-llm")) == 404
    assert status_of(lambda: alice.execute_request("/model/alice-prod")) == 404
    assert estimate(alice, model_id="alice-prod").has_errors
    assert status_of(lambda: alice.create_model(ModelCreateRequest(id="alice-prod", total_params_billions=7))) == 200

    # No key in clear: not in any table, not in the log (access log and DEBUG application log included).
    every_key = [ADMIN_KEY, *keys.values()]
    assert not [k for k in every_key if k in database_text(server.database_url)]
    log = server.log_path.read_text()
    assert "POST /v1/impact" in log  # the access log is on, so the check below means something
    assert not [k for k in every_key if k in log]


def all_ids(url: str, key: str, path: str, field: str) -> set[str]:
    ids: set[str] = set()
    next_url: str | None = url + path
    while next_url:
        response = httpx.get(next_url, headers={"Authorization": f"Bearer {key}"})
        items = response.json()[field]
        assert len(items) <= 100
        ids |= {item["id"] for item in items}
        next_url = response.links.get("next", {}).get("url")
    return ids


def database_text(database_url: str) -> str:
    """Every value in every table, as text."""
    from sqlalchemy import MetaData, select

    db = Database(database_url)
    metadata = MetaData()
    metadata.reflect(db.engine)
    with db.engine.connect() as connection:
        text = "\n".join(
            repr(row) for table in metadata.sorted_tables for row in connection.execute(select(table)).all()
        )
    db.dispose()
    return text


def test_saved_entries_survive_a_restart(database_url: str) -> None:
    first = GunicornServer(workers=1, database_url=database_url)
    try:
        key = create_key(database_url, "carol")
        carol = Client(api_key=key, api_url=first.url)
        own_entries(carol, "carol")
        before = estimate(carol, model_id="carol-prod", node_id="carol-node").rows[0].total_impact
    finally:
        first.stop()
    second = GunicornServer(workers=1, database_url=database_url)
    try:
        carol = Client(api_key=key, api_url=second.url)
        model = carol.execute_request("/model/carol-llm", response_model=Model)
        assert model.aliases == ["carol-latest", "carol-prod"]
        assert carol.execute_request("/gpu/carol_gpu", response_model=GPU).max_power_w == 500
        after = estimate(carol, model_id="carol-prod", node_id="carol-node").rows[0].total_impact
        assert after == before
    finally:
        second.stop()


def test_parallel_writes_on_two_workers_lose_nothing(server: GunicornServer) -> None:
    keys = [create_key(server.database_url, f"user{i}") for i in range(4)]
    admin = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert admin.post("/model", json={"id": "shared-llm", "total_params_billions": 8}).status_code == 201
    threads_per_user = 2
    errors: list[str] = []

    def work(key: str, n: int) -> None:
        tag = f"{key[-6:].lower().replace('_', 'x').replace('-', 'y')}{n}"
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as me:
            for i in range(5):
                model_id = f"m-{tag}-{i}"
                steps = [
                    me.post("/model", json={"id": model_id, "total_params_billions": 1 + i}),
                    me.put(f"/model/{model_id}", json={"name": f"model {i}", "estimated_requests_per_day": 10 + i}),
                    me.put(f"/model/{model_id}/alias", json={"alias": f"a-{tag}-{i}"}),
                ]
                if i % 2:
                    steps.append(me.delete(f"/model/{model_id}"))
                errors.extend(
                    f"{r.request.method} {r.request.url}: {r.status_code}"
                    for r in steps
                    if r.status_code >= 300 and r.status_code != 204
                )
        # Everyone adds an alias to the same global model through the admin at the same time.
        response = admin.put("/model/shared-llm/alias", json={"alias": f"shared-{tag}"})
        if response.status_code != 204:
            errors.append(f"shared alias: {response.status_code} {response.text}")

    threads = [threading.Thread(target=work, args=(k, n)) for k in keys for n in range(threads_per_user)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []

    for key in keys:
        me = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"})
        for n in range(threads_per_user):
            tag = f"{key[-6:].lower().replace('_', 'x').replace('-', 'y')}{n}"
            for i in range(5):
                got = me.get(f"/model/m-{tag}-{i}")
                if i % 2:
                    assert got.status_code == 404
                else:
                    body = got.json()
                    assert body["name"] == f"model {i}" and body["estimated_requests_per_day"] == 10 + i
                    assert body["aliases"] == [f"a-{tag}-{i}"]
                    assert me.get(f"/model/a-{tag}-{i}").json()["id"] == f"m-{tag}-{i}"
    shared = admin.get("/model/shared-llm").json()
    assert len(shared["aliases"]) == len(threads) == len(set(shared["aliases"]))


def test_rate_limit_holds_across_two_workers_with_redis(redis_url: str, tmp_path: Any) -> None:
    server = GunicornServer(
        workers=2,
        database_url=f"sqlite:///{tmp_path / 'limits.sqlite3'}",
        env={"REDIS_URL": redis_url, "RATE_LIMIT_PER_MINUTE": "5"},
    )
    try:
        key = create_key(server.database_url, "dave")  # a new key: a budget no earlier run has used
        statuses = []
        for _ in range(12):
            # A new connection each time, so the requests spread over both workers.
            response = httpx.get(server.url + "/gpu/h100", headers={"Authorization": f"Bearer {key}"})
            statuses.append(response.status_code)
            if response.status_code == 429:
                # One-minute window, all 12 requests sent within a few seconds of each other.
                assert 55 <= int(response.headers["Retry-After"]) <= 60
                assert response.json()["code"] == "TOO_MANY_REQUESTS"
        assert statuses.count(200) == 5 and statuses.count(429) == 7
    finally:
        server.stop()


def test_quick_start_prints_an_admin_key_once_on_an_empty_database(tmp_path: Any) -> None:
    from tests.conftest import free_port

    env = {k: v for k, v in os.environ.items() if k != "ADMIN_API_KEY"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'quick.sqlite3'}"
    printed = []
    for _ in range(2):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline()]
            while not lines[-1].startswith("serving on"):
                lines.append(process.stdout.readline())
            wait_ready(f"http://127.0.0.1:{port}")
            printed.append(lines)
            if len(printed) == 1:
                key = lines[1].strip()
                response = httpx.get(f"http://127.0.0.1:{port}/reload", headers={"Authorization": f"Bearer {key}"})
                assert response.status_code == 200  # an admin key
        finally:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
    assert printed[0][0].startswith("first start: created an admin key")
    assert printed[0][1].strip().startswith("s3ai_")
    assert printed[1][0].startswith("serving on")  # second start: no new key


def wait_ready(url: str, timeout_s: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/status", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not start")
