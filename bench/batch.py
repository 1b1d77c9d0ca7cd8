"""A 1,000,000-line OpenAI-style batch output file through the batch jobs: upload, estimate, download.

gunicorn (2 workers) and `python -m server batch-worker` (2 processes, one per core here) on PostgreSQL (or
SQLite) and Redis. Prints each stage's lines per second and the peak memory (VmHWM) of every server and worker
process: the file is streamed in and out, so none of them should ever hold it whole.

    python bench/batch.py [--lines 1000000] [--database postgresql|sqlite] [--processes 2] [--ranges]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import ADMIN_KEY, POSTGRES_ADMIN_URL, REDIS_URL, GunicornServer  # noqa: E402
from tests.test_batch import BatchWorker  # noqa: E402

MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "o3-mini"]


def write_file(path: Path, lines: int) -> int:
    """OpenAI batch output lines: chat completions with usage, about 1 in 1,000 a failed request."""
    rng = random.Random(1)
    with path.open("wb") as out:
        for i in range(lines):
            if i % 1000 == 999:
                line = {
                    "id": f"batch_req_{i}",
                    "custom_id": f"request-{i}",
                    "response": {"status_code": 429, "body": {"error": {"message": "Rate limit reached"}}},
                    "error": None,
                }
            else:
                prompt, completion = rng.randint(5, 6000), rng.randint(1, 1200)
                body = {
                    "id": f"chatcmpl-{i:09d}",
                    "object": "chat.completion",
                    "created": 1767225600 + i // 50,
                    "model": rng.choice(MODELS),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "A short answer of a few words."},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    },
                }
                line = {
                    "id": f"batch_req_{i}",
                    "custom_id": f"request-{i}",
                    "response": {"status_code": 200, "request_id": f"req_{i:09d}", "body": body},
                    "error": None,
                }
            out.write(orjson.dumps(line) + b"\n")
    return path.stat().st_size


def chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            yield chunk


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def processes_of(group_or_parent: int) -> list[int]:
    """The pids whose process group or parent is this pid, and itself."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == group_or_parent or int(stat[2]) == group_or_parent or int(entry.name) == group_or_parent:
            found.append(int(entry.name))
    return found


def database(kind: str) -> tuple[str, object]:
    if kind == "sqlite":
        folder = tempfile.mkdtemp()
        return f"sqlite:///{folder}/bench.sqlite3", None
    import psycopg

    name = f"scope3ai_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}", name


def drop(name: object) -> None:
    if name:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--ranges", action="store_true", help="submit with ?ranges=true (each line's low and high)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp())
    source = folder / "batch_output.jsonl"
    started = time.perf_counter()
    size = write_file(source, args.lines)
    print(f"file: {args.lines:,} lines, {size / 1e6:,.0f} MB (written in {time.perf_counter() - started:.1f} s)")

    url, database_name = database(args.database)
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    env = {"REDIS_URL": REDIS_URL, "BATCH_QUEUE_NAMESPACE": namespace, "LOG_LEVEL": "WARNING"}
    server = GunicornServer(workers=2, env=env, database_url=url)
    worker = BatchWorker({**env, "DATABASE_URL": url, "ADMIN_API_KEY": ADMIN_KEY}, args.processes)
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=600)
    try:
        time.sleep(3)  # the workers build the app
        t0 = time.perf_counter()
        uploaded = client.put(
            "/v1/files/batch_output.jsonl", content=chunks(source), headers={"Content-Type": "application/jsonl"}
        )
        uploaded.raise_for_status()
        t1 = time.perf_counter()
        submit = "/v1/batch?ranges=true" if args.ranges else "/v1/batch"
        task_id = client.post(submit, json={"file_id": uploaded.json()["file_id"]}).json()["task_id"]
        while (task := client.get(f"/v1/batch/task/{task_id}").json())["status"] not in ("completed", "failed"):
            time.sleep(0.1)
        t2 = time.perf_counter()
        lines = 0
        with client.stream("GET", f"/v1/batch/task/{task_id}/results?format=jsonl") as response:
            for chunk in response.iter_bytes():
                lines += chunk.count(b"\n")
        t3 = time.perf_counter()
        memory = {
            "gunicorn": max(peak_mb(pid) for pid in processes_of(server.process.pid)),
            "batch workers": max(peak_mb(pid) for pid in processes_of(worker.process.pid)),
        }
    finally:
        worker.stop()
        server.stop()
        drop(database_name)
        queue = redis.Redis.from_url(REDIS_URL)
        for key in queue.scan_iter(f"{namespace}*"):
            queue.delete(key)
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    assert task["status"] == "completed" and lines == args.lines, (task, lines)
    n = args.lines
    setup = f"gunicorn 2 workers; batch workers: {args.processes} processes; {os.cpu_count()} cores"
    print(f"database: {args.database}; {setup}{'; with ranges' if args.ranges else ''}")
    print(f"upload (PUT /v1/files, streamed):   {t1 - t0:6.1f} s  {n / (t1 - t0):>10,.0f} lines/s")
    print(f"estimate (POST /v1/batch → done):    {t2 - t1:6.1f} s  {n / (t2 - t1):>10,.0f} lines/s")
    print(f"download (JSONL results, streamed):  {t3 - t2:6.1f} s  {n / (t3 - t2):>10,.0f} lines/s")
    print(f"upload + estimate:                   {t2 - t0:6.1f} s  {n / (t2 - t0):>10,.0f} lines/s")
    print(f"counts: {task['counts']}")
    print("peak memory per process (VmHWM): " + ", ".join(f"{k} {v:,.0f} MB" for k, v in memory.items()))


if __name__ == "__main__":
    main()
