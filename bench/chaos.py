"""Faults under load: PostgreSQL restarted, Redis restarted, a gunicorn worker and a batch worker killed.

    python bench/chaos.py [--seconds 60] [--clients 32]

Starts its own PostgreSQL (a fresh data folder, `initdb`) and Redis on free ports, so it restarts only what it
started; then gunicorn (2 workers x 4 threads, as production) and one batch worker on them. `--clients` threads
send a mix of `/v1/impact`, `/v1/sheets/impact`, BigQuery `POST /` and `GET /model` for `--seconds`, with keys that
were used before the faults. Meanwhile, at fixed shares of the run: a batch task is submitted (10 %), the batch
worker is killed mid-task and started again (25 %), PostgreSQL restarts (33 %), Redis restarts (58 %), a gunicorn
worker is killed (83 %). A writer thread saves a model every 0.2 s, so writes during each outage are seen.

Prints the answers by status and endpoint, the 500s (there should be none), each fault's window of non-200
estimates and the time until every estimate answered 200 again, the writes' statuses during the outages with their
Retry-After, and whether the batch task completed with every line once.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import GunicornServer, free_port  # noqa: E402
from tests.test_bigquery import call  # noqa: E402

PG_BIN = next((p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
ROW = {"model_id": "gpt-4o", "input_tokens": 400, "output_tokens": 300}
REQUESTS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("impact", "POST", "/v1/impact", {"rows": [ROW, {**ROW, "model_id": "llama_31_8b"}]}),
    ("sheets", "POST", "/v1/sheets/impact", {"function": "SCOPE3_IMPACT", "args": {"model": [["gpt-4o"], ["o3"]]}}),
    (
        "bigquery",
        "POST",
        "/",
        {"requestId": "r", "caller": "c", "sessionUser": "u", "calls": [call(model_id="gpt-4o", input_tokens=100)]},
    ),
    ("catalog", "GET", "/model?limit=5", None),
]
BATCH_LINES = 60_000


def as_postgres(command: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: as root, run them as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Postgres:
    def __init__(self, folder: Path) -> None:
        if PG_BIN is None:
            raise SystemExit("chaos: no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
        self.port = free_port()
        self.data = folder / "pg"
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
            shutil.chown(self.data, "postgres")
        self.log = folder / "pg.log"
        subprocess.run(
            as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]),
            check=True,
            capture_output=True,
        )
        self.start()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c max_connections=200"
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *args]
        subprocess.run(as_postgres(command), check=True, capture_output=True)

    def start(self) -> None:
        self.pg_ctl("start")

    def restart(self) -> None:
        self.pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self.pg_ctl("stop", "-m", "fast")


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import redis

                redis.Redis.from_url(self.url).ping()
                return
            except Exception:
                time.sleep(0.05)
        raise SystemExit("chaos: redis-server did not start")

    def restart(self) -> None:
        # A restart loses what Redis held (no persistence here): the rate-limit windows and queued messages. Jobs
        # already in the database are what the batch worker's retries rely on.
        self.stop()
        time.sleep(1.0)
        self.start()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="scope3-chaos-"))
    pg = Postgres(folder)
    rd = Redis()
    env = {
        **os.environ,
        "DATABASE_URL": pg.url,
        "REDIS_URL": rd.url,
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "LOG_LEVEL": "WARNING",
        "BATCH_QUEUE_NAMESPACE": "chaos",
    }
    made = subprocess.run(
        [sys.executable, "-m", "server", "create-key", "chaos"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    key = made.stdout.strip().splitlines()[-1]
    web = GunicornServer(workers=2, threads=4, env=env, database_url=pg.url)
    url = web.url
    worker_log = (folder / "worker.log").open("wb")

    def start_worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "server", "batch-worker", "--processes", "1"],
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    worker = start_worker()
    headers = {"Authorization": f"Bearer {key}"}

    # Every worker thread verifies the key before the faults begin.
    with httpx.Client(base_url=url, headers=headers, timeout=10) as warm:
        for _ in range(40):
            warm.post("/v1/impact", json={"rows": [ROW]})

    answers: list[tuple[float, str, int]] = []  # (seconds since start, endpoint, status)
    writes: list[tuple[float, int, str | None]] = []
    retries: list[int] = []  # the status of the one retry after each request that got no answer
    lock = threading.Lock()
    started = time.monotonic()
    stop = threading.Event()

    def client(seed: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            n = seed
            while not stop.is_set():
                name, method, path, body = REQUESTS[n % len(REQUESTS)]
                n += 1
                try:
                    status = http.request(method, path, json=body).status_code
                except httpx.HTTPError:
                    status = 0  # no answer at all (a killed worker's open connection)
                    # Estimates are idempotent: a real client tries a reset connection once more, on a new one.
                    try:
                        retried = http.request(method, path, json=body).status_code
                    except httpx.HTTPError:
                        retried = 0
                    with lock:
                        retries.append(retried)
                with lock:
                    answers.append((time.monotonic() - started, name, status))

    def writer() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    response = http.post("/model", json={"id": f"chaos-{n}", "total_params_billions": 1})
                    writes.append(
                        (time.monotonic() - started, response.status_code, response.headers.get("Retry-After"))
                    )
                except httpx.HTTPError:
                    writes.append((time.monotonic() - started, 0, None))
                time.sleep(0.2)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    threads.append(threading.Thread(target=writer))
    for thread in threads:
        thread.start()

    events: list[tuple[str, float, float]] = []  # (what, began, ended) in seconds since start
    task_id = None

    def at(share: float) -> None:
        time.sleep(max(0.0, started + share * args.seconds - time.monotonic()))

    def event(what: str, action: Any) -> None:
        began = time.monotonic() - started
        action()
        events.append((what, began, time.monotonic() - started))

    at(0.10)
    lines = [{**ROW, "input_tokens": 100 + i % 5000} for i in range(BATCH_LINES)]
    submitted = httpx.post(url + "/v1/batch", json={"rows": lines}, headers=headers, timeout=60)
    task_id = submitted.json().get("task_id") if submitted.status_code == 202 else None
    at(0.25)

    def kill_batch_worker() -> None:
        nonlocal worker
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        worker = start_worker()

    event("batch worker killed and restarted", kill_batch_worker)
    at(1 / 3)
    event("PostgreSQL restarted", pg.restart)
    at(0.58)
    event("Redis restarted", rd.restart)
    at(0.83)

    def kill_web_worker() -> None:
        children = subprocess.run(["pgrep", "-P", str(web.process.pid)], capture_output=True, text=True).stdout.split()
        os.kill(int(children[0]), signal.SIGKILL)

    event("a gunicorn worker killed", kill_web_worker)
    at(1.0)
    stop.set()
    for thread in threads:
        thread.join()

    task: dict[str, Any] = {}
    if task_id:
        limit = time.monotonic() + 300
        while time.monotonic() < limit:
            task = httpx.get(f"{url}/v1/batch/task/{task_id}", headers=headers, timeout=30).json()
            if task.get("status") in ("completed", "failed"):
                break
            time.sleep(1)
        results = httpx.get(
            f"{url}/v1/batch/task/{task_id}/results?format=csv&metric=", headers=headers, timeout=120
        ).text.splitlines()
        lines_seen = collections.Counter(row.split(",")[1] for row in results[1:] if row)
    report(args, answers, writes, events, submitted.status_code, task, lines_seen if task_id else None)
    print(f"requests with no answer, tried once more on a new connection: {dict(collections.Counter(retries))}")

    web.stop()
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(20)
    rd.stop()
    pg.stop()
    shutil.rmtree(folder, ignore_errors=True)


def report(
    args: argparse.Namespace,
    answers: list[tuple[float, str, int]],
    writes: list[tuple[float, int, str | None]],
    events: list[tuple[str, float, float]],
    submit_status: int,
    task: dict[str, Any],
    lines_seen: collections.Counter[str] | None,
) -> None:
    print(f"{len(answers)} estimate and catalog requests by {args.clients} clients over {args.seconds:g} s")
    by = collections.Counter((name, status) for _, name, status in answers)
    names = sorted({name for name, _ in by})
    statuses = sorted({status for _, status in by})
    print("endpoint   " + "".join(f"{s if s else 'no answer':>11}" for s in statuses))
    for name in names:
        print(f"{name:<10} " + "".join(f"{by[(name, s)]:>11}" for s in statuses))
    print(f"500s: {sum(1 for _, _, s in answers if s == 500)}")
    ends = [began for _, began, _ in events[1:]] + [args.seconds]
    for (what, began, ended), until in zip(events, ends, strict=True):
        window = [(t, status) for t, _, status in answers if began <= t < until]
        counts = collections.Counter(status for _, status in window)
        bad = [t for t, status in window if status != 200]
        healed = f"all 200 from {max(bad) - ended:.1f} s after it" if bad else "every estimate 200"
        print(f"{what} at {began:.1f}-{ended:.1f} s: estimates until the next fault {dict(counts)}; {healed}")
        during = collections.Counter((status, after) for t, status, after in writes if began <= t <= ended + 2)
        print(f"    writes from its start to 2 s after it (status, Retry-After): {dict(during)}")
    print(f"batch: submitted with HTTP {submit_status}; task {task.get('status')} {task.get('counts')}")
    if lines_seen is not None:
        repeated = sum(1 for count in lines_seen.values() if count > 1)
        print(f"batch results: {len(lines_seen)} distinct lines of {BATCH_LINES}, {repeated} listed twice")


if __name__ == "__main__":
    main()
