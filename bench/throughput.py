"""Throughput of POST /v1/impact: gunicorn with one worker, 1000-row requests over HTTP, rows per second.

Also prints the app's start time with its whole catalog (a fresh interpreter importing and building the app).

    python bench/throughput.py [--seconds 5] [--workers 1]
"""

from __future__ import annotations

import argparse
import http.client
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import ADMIN_KEY, GunicornServer  # noqa: E402

MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "claude-3-5-sonnet",
    "llama_31_8b",
    "llama_31_70b",
    "gemini-2.5-flash",
    "mistral-large-2407",
    "deepseek-v3",
]
HOSTING = [
    {},
    {"managed_service_id": "aws-bedrock"},
    {"node_id": "aws:p4d.24xlarge"},
    {"cloud_id": "gcp", "cloud_instance_id": "a3-highgpu-8g"},
    {"cloud_region": "us-east-1"},
    {"country": "FR"},
    {"country": "US", "region": "NY"},
]


def request_body(rows: int, seed: int = 1) -> bytes:
    """A realistic mix: a few models and places, varied token counts, the odd image and audio row."""
    rng = random.Random(seed)
    out = []
    for i in range(rows):
        if i % 50 == 0:
            row = {
                "model_id": "stable_diffusion_xl_base_1_0",
                "task": "text-to-image",
                "output_images": ["1024x1024"],
                "input_steps": 30,
            }
        elif i % 50 == 1:
            row = {
                "model_id": "whisper-1",
                "task": "speech-to-text",
                "input_audio_seconds": rng.randint(5, 600),
            }
        else:
            row = {
                "model_id": rng.choice(MODELS),
                "input_tokens": rng.randint(10, 8000),
                "output_tokens": rng.randint(10, 2000),
                **rng.choice(HOSTING),
            }
        row["utc_datetime"] = "2025-06-01T12:00:00Z"
        out.append(row)
    return orjson.dumps({"rows": out})


def post(port: int, body: bytes) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN_KEY}"}
    connection.request("POST", "/v1/impact", body, headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
    return data


def app_start_ms() -> float:
    """Median of 3 cold starts in new processes, each migrating a new, empty SQLite database (the worst case)."""
    runs = []
    for n in range(3):
        with tempfile.TemporaryDirectory() as folder:
            database = f"sqlite:///{folder}/start-{n}.sqlite3"
            code = (
                "import time; t=time.perf_counter(); from server.app import create_app; "
                f"create_app({{'LOG_LEVEL': 'WARNING', 'DATABASE_URL': {database!r}}}); "
                "print((time.perf_counter()-t)*1000)"
            )
            runs.append(float(subprocess.check_output([sys.executable, "-c", code], cwd=ROOT, text=True)))
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()

    print(f"app start with the whole catalog (median of 3 fresh interpreters): {app_start_ms():.0f} ms")
    server = GunicornServer(workers=args.workers)
    try:
        port = server.port
        bodies = [request_body(args.rows, seed) for seed in range(8)]
        for body in bodies:  # warm up: first requests fill the resolution cache
            post(port, body)
        latencies = []
        requests = 0
        started = time.perf_counter()
        while time.perf_counter() - started < args.seconds:
            t0 = time.perf_counter()
            post(port, bodies[requests % len(bodies)])
            latencies.append(time.perf_counter() - t0)
            requests += 1
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    rows = requests * args.rows
    latencies.sort()
    print(f"gunicorn workers: {args.workers}; requests: {requests} x {args.rows} rows in {elapsed:.1f} s")
    print(f"throughput: {rows / elapsed:,.0f} rows/s")
    print(
        f"latency per {args.rows}-row request: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
