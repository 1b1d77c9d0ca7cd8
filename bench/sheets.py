"""Server time of POST /v1/sheets/impact for a 5,000-line SCOPE3_IMPACT range: gunicorn with one worker, over HTTP.

The figure is the app's own time per call (its `Server-Timing` header: from the request reaching the view to the
response body built), beside the round trip seen by the caller. The range is what Sheets sends for
`=SCOPE3_IMPACT(A2:A5001, B2:B5001, C2:C5001, , , F2:F5001)`: a few models, token counts as numbers and some as
text, locations, the odd blank line.

    python bench/sheets.py [--lines 5000] [--calls 40] [--compare]

With `--compare`, the same range as `=SCOPE3_COMPARE(A2:A5001, B2:B5001, C2:C5001, "gpt-4o-mini", , "SE")`: each
line and its alternative, two estimates per line, in one call.
"""

from __future__ import annotations

import argparse
import http.client
import random
import statistics
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throughput import MODELS  # noqa: E402
from tests.conftest import ADMIN_KEY, GunicornServer  # noqa: E402

LOCATIONS = ["", "FR", "US-NY", "us-east-1", "DE", "aws:eu-west-1", "IN"]


def sheet_range(lines: int, seed: int, *, compare: bool = False) -> bytes:
    rng = random.Random(seed)
    model, input_tokens, output_tokens, location = [], [], [], []
    for i in range(lines):
        if i % 100 == 99:  # a blank line in the usage data
            model.append([""]), input_tokens.append([""]), output_tokens.append([""]), location.append([""])
            continue
        model.append([rng.choice(MODELS)])
        tokens = rng.randint(10, 8000)
        input_tokens.append([str(tokens) if i % 10 == 0 else tokens])  # some numbers typed as text
        output_tokens.append([rng.randint(10, 2000)])
        location.append([rng.choice(LOCATIONS)])
    if compare:
        args = {"model": model, "input_tokens": input_tokens, "output_tokens": output_tokens}
        args |= {"alt_model": "gpt-4o-mini", "alt_location": "SE"}
        return orjson.dumps({"function": "SCOPE3_COMPARE", "args": args})
    args = {"model": model, "input_tokens": input_tokens, "output_tokens": output_tokens, "location": location}
    return orjson.dumps({"function": "SCOPE3_IMPACT", "args": args})


def post(port: int, body: bytes) -> tuple[float, float, dict[str, object]]:
    """(server ms, round-trip ms, body) of one call."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN_KEY}"}
    started = time.perf_counter()
    connection.request("POST", "/v1/sheets/impact", body, headers)
    response = connection.getresponse()
    data = response.read()
    round_trip = (time.perf_counter() - started) * 1000.0
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
    timing = response.getheader("Server-Timing", "")
    server_ms = float(timing.split("dur=")[1])
    return server_ms, round_trip, orjson.loads(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--compare", action="store_true", help="SCOPE3_COMPARE of the same range")
    args = parser.parse_args()

    server = GunicornServer(workers=1)
    try:
        bodies = [sheet_range(args.lines, seed, compare=args.compare) for seed in range(4)]
        for body in bodies:  # warm up: the first call of a kind fills the resolution cache
            post(server.port, body)
        server_ms, round_trip_ms = [], []
        for call in range(args.calls):
            spent, trip, answer = post(server.port, bodies[call % len(bodies)])
            server_ms.append(spent)
            round_trip_ms.append(trip)
    finally:
        server.stop()
    server_ms.sort()
    round_trip_ms.sort()
    p95 = int(len(server_ms) * 0.95)
    function = "SCOPE3_COMPARE" if args.compare else "SCOPE3_IMPACT"
    print(f"POST /v1/sheets/impact ({function}), {args.lines:,} lines x {args.calls} calls, gunicorn with 1 worker")
    print(f"lines answered per call: {answer['lines']:,} ({answer['errors']} errors)")
    print(
        f"server time: median {statistics.median(server_ms):.1f} ms, p95 {server_ms[p95]:.1f} ms, "
        f"best {server_ms[0]:.1f} ms"
    )
    print(f"round trip:  median {statistics.median(round_trip_ms):.1f} ms, p95 {round_trip_ms[p95]:.1f} ms")
    print(f"lines per second of server time: {args.lines / statistics.median(server_ms) * 1000:,.0f}")


if __name__ == "__main__":
    main()
