"""A task's results as people read them: one object, or the whole task as JSONL or CSV, streamed block by block.

An object's id is `<task_id>-<line>`, the line being the record's 1-based number in the file (blank lines and a CSV
header not counted). A JSONL result line:

    {"object_id": "...-7", "line": 7, "key": "request-7", "status": "completed",
     "inference_impact": {...}, "training_impact": {...}, "total_impact": {...}}

or, for a line that could not be estimated, `"status": "failed"` and the wire `Error` object under `"error"`.
The metrics are the five of `/v1/impact` (`usage_energy_wh`, `usage_emissions_gco2e`, `usage_water_ml`,
`embodied_emissions_gco2e`, `embodied_water_ml`) with the same values. The CSV has one row per line: object_id,
line, key, status, the five metrics of the total, then error_code, error_message, error_field.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Iterator
from typing import Any

import orjson
from sqlalchemy import select

from server.batch.upload import BLOCK_LINES
from server.db.database import Database
from server.db.tables import BatchResult
from server.engine import Impacts

# The five metrics, in the order `run.py` stores them (an `Impacts` as a JSON array).
METRICS: tuple[str, ...] = Impacts._fields
CSV_COLUMNS = ("object_id", "line", "key", "status", *METRICS, "error_code", "error_message", "error_field")


def object_id(task_id: str, line: int) -> str:
    return f"{task_id}-{line}"


def split_object_id(value: str) -> tuple[str, int] | None:
    task_id, _, line = value.rpartition("-")
    if not task_id or not line.isdigit():
        return None
    return task_id, int(line)


def _metrics(values: list[float]) -> dict[str, float]:
    return dict(zip(METRICS, values, strict=True))


def wire_result(task_id: str, stored: list[Any]) -> dict[str, Any]:
    """A stored result (`run.py`: `[line, key, inference, training]` or `[line, key, None, None, error]`)."""
    line, key, inference, training = stored[:4]
    out: dict[str, Any] = {"object_id": object_id(task_id, line), "line": line, "key": key}
    if inference is None:
        out["status"] = "failed"
        out["error"] = stored[4]
        return out
    out["status"] = "completed"
    out["inference_impact"] = _metrics(inference)
    out["training_impact"] = _metrics(training)
    out["total_impact"] = _metrics([a + b for a, b in zip(inference, training, strict=True)])
    return out


def _blocks(db: Database, task_id: str) -> Iterator[list[bytes]]:
    """Each stored block of results, in order, one database read at a time."""
    block_no = 0
    while True:
        with db.read() as session:
            data = session.scalars(
                select(BatchResult.data).where(BatchResult.task_id == task_id, BatchResult.block_no == block_no)
            ).first()
        if data is None:
            return
        yield zlib.decompress(data).split(b"\n")
        block_no += 1


def jsonl_lines(db: Database, task_id: str) -> Iterator[bytes]:
    for block in _blocks(db, task_id):
        yield b"".join(orjson.dumps(wire_result(task_id, orjson.loads(line))) + b"\n" for line in block)


def csv_lines(db: Database, task_id: str) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue().encode()
    for block in _blocks(db, task_id):
        buffer.seek(0)
        buffer.truncate()
        for line in block:
            result = wire_result(task_id, orjson.loads(line))
            total = result.get("total_impact")
            error = result.get("error") or {}
            details = error.get("details") or {}
            writer.writerow(
                (
                    result["object_id"],
                    result["line"],
                    result["key"] or "",
                    result["status"],
                    *((total[name] for name in METRICS) if total else ("",) * len(METRICS)),
                    error.get("code", ""),
                    error.get("message", ""),
                    details.get("field", ""),
                )
            )
        yield buffer.getvalue().encode()


def stored_result(db: Database, task_id: str, line: int) -> list[Any] | None:
    """The stored result of one line, or None while its block is not done."""
    block_no, offset = divmod(line - 1, BLOCK_LINES)
    with db.read() as session:
        data = session.scalars(
            select(BatchResult.data).where(BatchResult.task_id == task_id, BatchResult.block_no == block_no)
        ).first()
    if data is None:
        return None
    found: list[Any] = orjson.loads(zlib.decompress(data).split(b"\n")[offset])
    return found
