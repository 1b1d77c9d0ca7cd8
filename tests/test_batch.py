"""Batch jobs end to end: gunicorn, real Dramatiq workers on Redis, SQLite and PostgreSQL.

Every impact a batch reports is checked against `/v1/impact` for the same row.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from flask import Flask

from server.app import create_app
from server.batch.upload import BLOCK_LINES
from tests.conftest import ADMIN_KEY, ROOT, GunicornServer, authorized, settings_for_tests

MODELS = ["gpt-4o", "gpt-4o-mini", "llama_31_8b", "claude-3-5-sonnet", "mistral-large-2407"]


class BatchWorker:
    """`python -m server batch-worker` in its own process group, so a test can kill it like a crash would."""

    def __init__(self, env: dict[str, str], processes: int = 1) -> None:
        self.log_path = ROOT / "instance" / f"batch-worker-{uuid.uuid4().hex[:8]}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "batch-worker", "--processes", str(processes)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to every process of the worker: no chance to finish or hand back its messages."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
        self.log_path.unlink(missing_ok=True)


class Batch:
    """A server and its queue settings; workers are started by the tests."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.namespace = f"test-{uuid.uuid4().hex[:10]}"
        self.env = {
            "REDIS_URL": redis_url,
            "BATCH_QUEUE_NAMESPACE": self.namespace,
            "BATCH_HEARTBEAT_TIMEOUT_MS": "1500",  # a killed worker's blocks come back after 1.5 s
            "BATCH_MAINTENANCE_CHANCE": "1000000",  # and every queue command looks for dead workers
            "LOG_LEVEL": "WARNING",
        }
        self.server = GunicornServer(workers=2, env=self.env, database_url=database_url)
        self.redis_url = redis_url
        self.workers: list[BatchWorker] = []
        self.admin = self.client(ADMIN_KEY)

    def worker(self, processes: int = 1) -> BatchWorker:
        started = BatchWorker(
            {**self.env, "DATABASE_URL": self.server.database_url, "ADMIN_API_KEY": ADMIN_KEY}, processes
        )
        self.workers.append(started)
        return started

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60)

    def user(self, name: str) -> httpx.Client:
        out = subprocess.run(
            [sys.executable, "-m", "server", "create-key", name],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": self.server.database_url},
            capture_output=True,
            text=True,
            check=True,
        )
        return self.client(out.stdout.strip().splitlines()[-1])

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.server.stop()
        queue = redis.Redis.from_url(self.redis_url)
        for key in queue.scan_iter(f"{self.namespace}*"):
            queue.delete(key)


@pytest.fixture()
def batch(database_url: str, redis_url: str) -> Iterator[Batch]:
    running = Batch(database_url, redis_url)
    yield running
    running.close()


def wait_done(client: httpx.Client, task_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        task: dict[str, Any] = client.get(f"/v1/batch/task/{task_id}").json()
        if task["status"] in ("completed", "failed"):
            return task
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} did not finish in {timeout_s:.0f} s: {task}")


def totals_from_impact(client: httpx.Client, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for start in range(0, len(rows), 1000):
        answer = client.post("/v1/impact", json={"rows": rows[start : start + 1000]})
        assert answer.status_code == 200
        out.extend(answer.json()["rows"])
    return out


def jsonl_results(client: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/batch/task/{task_id}/results", headers={"Output-Format": "jsonl"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/jsonl")
    return [orjson.loads(line) for line in response.content.splitlines()]


def usage_rows(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    places = [{}, {"country": "FR"}, {"country": "US", "region": "NY"}, {"cloud_region": "us-east-1"}]
    return [
        {
            "model_id": rng.choice(MODELS),
            "input_tokens": rng.randint(0, 9000),
            "output_tokens": rng.randint(1, 2000),
            **rng.choice(places),
        }
        for _ in range(count)
    ]


def test_rows_submitted_complete_and_equal_the_impact_api(batch: Batch) -> None:
    batch.worker()
    rows = usage_rows(2500, seed=1)
    rows[10] = {"model_id": "gpt-9", "input_tokens": 5}
    rows[11] = {"model_id": "gpt-4o", "input_tokens": -5}
    rows.append({"model_id": "dall-e-3", "task": "text-to-image", "output_images": ["1024x1024"]})
    submitted = batch.admin.post("/v1/batch?ranges=true", json={"rows": rows})
    assert submitted.status_code == 202
    body = submitted.json()
    assert body["status"] == "queued" and body["total_items"] == len(rows) and body["objects_truncated"] is True
    assert body["objects"][0] == {"object_id": f"{body['task_id']}-1", "status": "queued"}
    assert len(body["objects"]) == 1000

    task = wait_done(batch.admin, body["task_id"])
    assert task["status"] == "completed" and task["progress"] == 1.0 and task["ranges"] is True
    assert task["counts"] == {"queued": 0, "completed": len(rows) - 2, "failed": 2}
    # The methodology that took the task and the one its blocks were computed with: the server's, as it says.
    methodology = submitted.headers["Scope3-Methodology-Version"]
    assert task["methodology_version"] == methodology
    assert task["computed_with_methodology"] == [methodology]
    results = jsonl_results(batch.admin, body["task_id"])
    assert [result["line"] for result in results] == list(range(1, len(rows) + 1))
    expected = totals_from_impact(batch.admin, [row for i, row in enumerate(rows) if i not in (10, 11)])
    good = [result for result in results if result["status"] == "completed"]
    assert [(r["inference_impact"], r["training_impact"], r["total_impact"]) for r in good] == [
        (e["inference_impact"], e["training_impact"], e["total_impact"]) for e in expected
    ]
    assert results[10]["error"]["message"].startswith("unknown model 'gpt-9'")
    assert results[11]["error"]["details"]["field"] == "input_tokens"

    # The low and the high of each line, as columns, equal /v1/impact?ranges=true's.
    asked = "energy_wh_low,energy_wh,energy_wh_high,gco2e_low,gco2e_high"
    table = batch.admin.get(f"/v1/batch/task/{body['task_id']}/results?format=csv&metric={asked}")
    assert table.status_code == 200
    csv_rows = [row for row in csv.DictReader(io.StringIO(table.text)) if row["status"] == "completed"][:1000]
    ranged = batch.admin.post(
        "/v1/impact?ranges=true", json={"rows": [r for i, r in enumerate(rows) if i not in (10, 11)][:1000]}
    )
    for row, answer in zip(csv_rows, ranged.json()["rows"], strict=True):
        low, central, high = (answer[key] for key in ("total_impact_low", "total_impact", "total_impact_high"))
        assert [float(row[name]) for name in ("energy_wh_low", "energy_wh", "energy_wh_high")] == [
            low["usage_energy_wh"],
            central["usage_energy_wh"],
            high["usage_energy_wh"],
        ]
        assert float(row["gco2e_low"]) == low["usage_emissions_gco2e"] + low["embodied_emissions_gco2e"]
        assert float(row["gco2e_high"]) == high["usage_emissions_gco2e"] + high["embodied_emissions_gco2e"]

    one = batch.admin.get(f"/v1/batch/object/{body['task_id']}-12").json()
    assert one["status"] == "failed" and one["task_id"] == body["task_id"] and one["line"] == 12
    last = batch.admin.get(f"/v1/batch/object/{body['task_id']}-{len(rows)}").json()
    assert last["total_impact"] == results[-1]["total_impact"]


def openai_output_lines(count: int, seed: int) -> tuple[bytes, list[dict[str, Any] | None]]:
    """An OpenAI-style batch output file and, per line, the impact row it stands for (None: a failed request)."""
    rng = random.Random(seed)
    lines, rows = [], []
    for i in range(count):
        if i % 997 == 5:
            lines.append(
                orjson.dumps(
                    {
                        "id": f"batch_req_{i}",
                        "custom_id": f"request-{i}",
                        "response": {"status_code": 429, "body": {"error": {"message": "Rate limit reached"}}},
                        "error": None,
                    }
                )
            )
            rows.append(None)
            continue
        model = rng.choice(["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini"])
        prompt, completion = rng.randint(5, 4000), rng.randint(1, 800)
        body = {
            "id": f"chatcmpl-{i}",
            "object": "chat.completion",
            "created": 1767225600 + i,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Photosynthesis turns light..."}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }
        lines.append(
            orjson.dumps(
                {
                    "id": f"batch_req_{i}",
                    "custom_id": f"request-{i}",
                    "response": {"status_code": 200, "request_id": f"req_{i}", "body": body},
                    "error": None,
                }
            )
        )
        rows.append(
            {
                "model_id": model,
                "task": "text-generation",
                "input_tokens": prompt,
                "output_tokens": completion,
                "utc_datetime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1767225600 + i)),
            }
        )
    return b"\n".join(lines) + b"\n", rows


def test_a_100000_line_openai_batch_output_file(batch: Batch) -> None:
    batch.worker(processes=2)
    content, rows = openai_output_lines(100_000, seed=2)
    uploaded = batch.admin.put(
        "/v1/files/batch_output.jsonl", content=content, headers={"Content-Type": "application/jsonl"}
    )
    assert uploaded.status_code == 201, uploaded.text
    stored = uploaded.json()
    assert stored["lines"] == 100_000 and stored["format"] == "openai-batch-output" and stored["bytes"] == len(content)
    assert batch.admin.get(f"/v1/files/{stored['file_id']}").json() == stored

    body = batch.admin.post("/v1/batch", json={"file_id": stored["file_id"]}).json()
    task = wait_done(batch.admin, body["task_id"], timeout_s=240)
    failed = sum(1 for row in rows if row is None)
    assert task["counts"] == {"queued": 0, "completed": 100_000 - failed, "failed": failed}

    results = jsonl_results(batch.admin, body["task_id"])
    assert len(results) == 100_000
    assert [result["key"] for result in results[:3]] == ["request-0", "request-1", "request-2"]
    bad = [result for result in results if result["status"] == "failed"]
    assert len(bad) == failed and all("Rate limit reached" in result["error"]["message"] for result in bad)
    sample = random.Random(3).sample(range(100_000), 3000)
    sample = [i for i in sample if rows[i] is not None]
    expected = totals_from_impact(batch.admin, [rows[i] for i in sample])  # type: ignore[misc]
    assert [results[i]["total_impact"] for i in sample] == [e["total_impact"] for e in expected]

    as_csv = batch.admin.get(f"/v1/batch/task/{body['task_id']}/results?format=csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(table) == 100_000
    assert (
        float(table[sample[0]]["usage_emissions_gco2e"]) == results[sample[0]]["total_impact"]["usage_emissions_gco2e"]
    )
    assert table[5]["status"] == "failed" and "Rate limit" in table[5]["error_message"]


def test_a_worker_killed_mid_task_the_task_completes_every_object_once(batch: Batch) -> None:
    rows = usage_rows(8 * BLOCK_LINES, seed=4)
    first = batch.worker()
    body = batch.admin.post("/v1/batch", json={"rows": rows}).json()
    task_id = body["task_id"]
    deadline = time.monotonic() + 60
    while (task := batch.admin.get(f"/v1/batch/task/{task_id}").json())["counts"]["completed"] == 0:
        assert time.monotonic() < deadline, task
        time.sleep(0.02)
    first.kill()
    killed_at = batch.admin.get(f"/v1/batch/task/{task_id}").json()
    assert killed_at["status"] == "running" and killed_at["counts"]["queued"] > 0, killed_at

    batch.worker()
    task = wait_done(batch.admin, task_id)
    assert task["status"] == "completed"
    assert task["counts"] == {"queued": 0, "completed": len(rows), "failed": 0}
    results = jsonl_results(batch.admin, task_id)
    assert [result["line"] for result in results] == list(range(1, len(rows) + 1))  # each once, in order
    expected = totals_from_impact(batch.admin, rows[:: BLOCK_LINES // 4])
    assert [r["total_impact"] for r in results[:: BLOCK_LINES // 4]] == [e["total_impact"] for e in expected]
    # Submitted without ranges: asking for a low is refused, naming the way to get one.
    refused = batch.admin.get(f"/v1/batch/task/{task_id}/results?metric=energy_wh,energy_wh_low")
    assert refused.status_code == 400 and "POST /v1/batch?ranges=true" in refused.json()["message"]
    assert refused.json()["details"]["field"] == "metric" and task["ranges"] is False
    # Equivalences are columns like the others; the energy class is a Sheets label, refused by name.
    first = jsonl_results(batch.admin, task_id)[0]
    equivalent = batch.admin.get(f"/v1/batch/task/{task_id}/results?metric=km_by_car,showers").text.splitlines()[0]
    metrics = json.loads(equivalent)["metrics"]
    total = first["total_impact"]
    assert metrics["km_by_car"] == pytest.approx(
        (total["usage_emissions_gco2e"] + total["embodied_emissions_gco2e"]) / (400 / 1.609344), rel=1e-12
    )
    assert metrics["showers"] == pytest.approx((total["usage_water_ml"] + total["embodied_water_ml"]) / 65_100)
    label = batch.admin.get(f"/v1/batch/task/{task_id}/results?metric=energy_class")
    assert label.status_code == 400 and label.json()["details"]["reason"] == "sheets_only"


def test_another_account_gets_404_on_tasks_objects_and_files(batch: Batch) -> None:
    alice, bob = batch.user("alice"), batch.user("bob")
    uploaded = alice.put("/v1/files/mine.csv", content=b"model,input_tokens,output_tokens\ngpt-4o,10,20\n").json()
    assert uploaded["format"] == "csv" and uploaded["lines"] == 1
    task = alice.post("/v1/batch", json={"file_id": uploaded["file_id"]}).json()
    object_id = f"{task['task_id']}-1"
    for path in (
        f"/v1/files/{uploaded['file_id']}",
        f"/v1/batch/task/{task['task_id']}",
        f"/v1/batch/task/{task['task_id']}/results",
        f"/v1/batch/object/{object_id}",
    ):
        assert alice.get(path).status_code in (200, 409), path
        refused = bob.get(path)
        assert refused.status_code == 404 and refused.json()["code"] == "NOT_FOUND", path
    assert bob.post("/v1/batch", json={"file_id": uploaded["file_id"]}).status_code == 404


# --- the API without workers (Flask test client) ---------------------------------------------------------------


@pytest.fixture()
def queued_app(tmp_path: Path, redis_url: str) -> Iterator[Flask]:
    """An app with a job queue but no worker: tasks stay queued."""
    namespace = f"test-{uuid.uuid4().hex[:10]}"
    app = create_app(
        settings_for_tests(
            f"sqlite:///{tmp_path / 'batch.sqlite3'}",
            REDIS_URL=redis_url,
            BATCH_QUEUE_NAMESPACE=namespace,
            MAX_UPLOAD_BYTES=64 * 1024,
        )
    )
    yield app
    queue = redis.Redis.from_url(redis_url)
    for key in queue.scan_iter(f"{namespace}*"):
        queue.delete(key)
    app.extensions["services"].db.dispose()


def test_uploads_are_checked_and_size_limited(queued_app: Flask) -> None:
    client = authorized(queued_app.test_client(), ADMIN_KEY)
    too_big = b'{"model_id": "gpt-4o", "input_tokens": 1}\n' * 2000  # 86 KB > 64 KB
    response = client.put("/v1/files/big.jsonl", data=too_big, content_type="application/jsonl")
    assert response.status_code == 413 and response.json["code"] == "PAYLOAD_TOO_LARGE"
    streamed = client.put("/v1/files/big.jsonl", data=io.BytesIO(too_big), content_type="application/jsonl")
    assert streamed.status_code == 413  # no Content-Length checked up front: counted while streaming
    with queued_app.extensions["services"].db.read() as session:
        assert session.execute(__import__("sqlalchemy").text("SELECT count(*) FROM batch_files")).scalar() == 0

    empty = client.put("/v1/files/empty.jsonl", data=b"\n\n", content_type="application/jsonl")
    assert empty.status_code == 400 and "empty" in empty.json["message"]
    header = client.put("/v1/files/u.csv", data=b"modle,input_tokens\nx,1\n", content_type="text/csv")
    stray = client.put("/v1/files/cr.csv", data=b"model,input\rtokens\n", content_type="text/csv")  # schemathesis
    assert stray.status_code == 400 and stray.json["details"] == {"reason": "bad_csv", "field": "file"}
    assert header.status_code == 400 and "modle" in header.json["message"]
    request = client.put(
        "/v1/files/in.jsonl", data=b'{"custom_id": "a", "method": "POST", "url": "/v1/chat", "body": {}}'
    )
    assert request.status_code == 400 and request.json["details"]["field"] == "file"
    multipart = client.put(
        "/v1/files/form.jsonl",
        data={"file": (io.BytesIO(b'{"model": "openai:gpt-4o", "usage": {"input_tokens": 3}}\n'), "form.jsonl")},
        content_type="multipart/form-data",
    )
    assert multipart.status_code == 201 and multipart.json["format"] == "provider-usage"


def test_submissions_and_reads_before_the_task_runs(queued_app: Flask) -> None:
    client = authorized(queued_app.test_client(), ADMIN_KEY)
    task = client.post("/v1/batch", json=[{"model": "openai:gpt-4o", "usage": {"input_tokens": 5}}]).json
    assert task["status"] == "queued" and task["total_items"] == 1 and task["objects_truncated"] is False
    early = client.get(f"/v1/batch/task/{task['task_id']}/results", headers={"Accept": "text/csv"})
    assert early.status_code == 409 and "queued" in early.json["message"]
    assert client.get(f"/v1/batch/object/{task['task_id']}-1").json["status"] == "queued"
    assert client.get(f"/v1/batch/object/{task['task_id']}-2").status_code == 404
    assert client.get("/v1/batch/object/not-an-id").status_code == 404
    bad_format = client.get(f"/v1/batch/task/{task['task_id']}/results?format=xml")
    assert bad_format.status_code == 400 and bad_format.json["details"]["field"] == "format"
    for body, field in (({"rows": []}, "rows"), ({"rows": [1]}, "rows"), ({"file_id": "nope"}, "file_id")):
        response = client.post("/v1/batch", json=body)
        assert response.status_code in (400, 404) and response.json["details"]["field"].startswith(field)


def test_without_a_job_queue_batch_answers_503(app: Flask) -> None:
    client = authorized(app.test_client(), ADMIN_KEY)
    response = client.post("/v1/batch", json={"rows": [{"model_id": "gpt-4o"}]})
    assert response.status_code == 503 and "REDIS_URL" in response.json["message"]


def test_a_sheet_table_becomes_rows_keyed_by_sheet_row(queued_app: Flask) -> None:
    client = authorized(queued_app.test_client(), ADMIN_KEY)
    table = [["model", "input_tokens", "location"], ["gpt-4o", 10, "FR"], ["", "", ""], ["gpt-4o", "lots", ""]]
    task = client.post("/v1/batch", json={"table": table, "first_row": 3}).json
    assert task["total_items"] == 2  # the blank row is left out
    with queued_app.extensions["services"].db.read() as session:
        from server.batch.upload import read_block
        from server.db.tables import BatchFileBlock

        block = session.get(BatchFileBlock, (task["file_id"], 0))
        assert block is not None
        records = [orjson.loads(record) for record in read_block(block.data)]
    assert records[0] == {"model_id": "gpt-4o", "input_tokens": 10, "country": "FR", "request_id": "row 4"}
    assert records[1]["request_id"] == "row 6" and "expected a number" in records[1]["__error__"]


def test_a_block_that_fails_once_is_retried_and_the_task_completes(
    queued_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dramatiq

    from server.batch import jobs

    real_run_block = jobs.run_block
    calls: list[int] = []

    def flaky(db: object, views: object, task_id: str, block_no: int) -> None:
        calls.append(block_no)
        if calls.count(block_no) == 1:
            raise ConnectionError("database went away")  # a transient failure, as the queue sees it
        real_run_block(db, views, task_id, block_no)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "run_block", flaky)
    client = authorized(queued_app.test_client(), ADMIN_KEY)
    rows = usage_rows(BLOCK_LINES + 10, seed=5)
    task_id = client.post("/v1/batch", json={"rows": rows}).json["task_id"]
    worker = dramatiq.Worker(queued_app.extensions["services"].queue.broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while (task := client.get(f"/v1/batch/task/{task_id}").json)["status"] != "completed":
            assert time.monotonic() < deadline, task
            time.sleep(0.1)
    finally:
        worker.stop()
    assert sorted(calls) == [0, 0, 1, 1]  # each block failed once, then ran once
    assert task["counts"] == {"queued": 0, "completed": len(rows), "failed": 0}


def test_posted_rows_of_an_unusable_format_and_a_queue_that_is_down(tmp_path: Path) -> None:
    app = create_app(
        settings_for_tests(
            f"sqlite:///{tmp_path / 'down.sqlite3'}",
            REDIS_URL="redis://127.0.0.1:1/0",  # nothing listens there
            BATCH_QUEUE_NAMESPACE="test-down",
        )
    )
    client = authorized(app.test_client(), ADMIN_KEY)
    request_line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o"}}
    refused = client.post("/v1/batch", json={"rows": [request_line]})
    assert refused.status_code == 400 and refused.json["details"]["field"] == "rows"
    down = client.post("/v1/batch", json={"rows": [{"model_id": "gpt-4o", "input_tokens": 3}]})
    assert down.status_code == 503 and down.json["details"]["reason"] == "job_queue_down"
    with app.extensions["services"].db.read() as session:
        from server.db.tables import BatchTask

        (task,) = session.query(BatchTask).all()
    assert task.status == "failed" and "could not be reached" in (task.error or "")
    app.extensions["services"].db.dispose()
