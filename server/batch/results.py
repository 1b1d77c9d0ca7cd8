"""A task's results as people read them: one object, or the whole task as JSONL or CSV, streamed block by block.

An object's id is `<task_id>-<line>`, the line being the record's 1-based number in the file (blank lines and a CSV
header not counted). A JSONL result line:

    {"object_id": "...-7", "line": 7, "key": "request-7", "status": "completed",
     "inference_impact": {...}, "training_impact": {...}, "total_impact": {...}}

or, for a line that could not be estimated, `"status": "failed"` and the wire `Error` object under `"error"`.
The impacts are the spec's five components of `/v1/impact` (`server.pipeline.metrics.WIRE_COMPONENTS`) with the
same values. The CSV has one row per line: object_id, line, key, status, the five components of the total, then
error_code, error_message, error_field. Asked for `metrics` (names as a sheet's `metric` argument gives them), a
JSONL line also has `"metrics": {name: value}` and the CSV has those columns in place of the five.
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
from server.pipeline.metrics import WIRE_COMPONENTS, from_stored, row_reader, wire

FIXED_COLUMNS = ("object_id", "line", "key", "status")
ERROR_COLUMNS = ("error_code", "error_message", "error_field")


def object_id(task_id: str, line: int) -> str:
    return f"{task_id}-{line}"


def split_object_id(value: str) -> tuple[str, int] | None:
    task_id, _, line = value.rpartition("-")
    if not task_id or not line.isdigit():
        return None
    return task_id, int(line)


def wire_result(task_id: str, stored: list[Any], metrics: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A stored result (`run.py`: `[line, key, inference, training]`, with `[None, inference low, inference high]`
    after it for a task submitted with ranges, or `[line, key, None, None, error]`).

    A low or high metric of a result stored without its range is null (the API refuses to ask for one of a task
    submitted without ranges)."""
    line, key, inference, training = stored[:4]
    out: dict[str, Any] = {"object_id": object_id(task_id, line), "line": line, "key": key}
    if inference is None:
        out["status"] = "failed"
        out["error"] = stored[4]
        return out
    inference, training = from_stored(inference), from_stored(training)
    out["status"] = "completed"
    out["inference_impact"] = wire(inference)
    out["training_impact"] = wire(training)
    out["total_impact"] = wire(inference + training)
    if metrics is not None:
        low, high = (from_stored(stored[5]), from_stored(stored[6])) if len(stored) >= 7 else (None, None)
        out["metrics"] = dict(zip(metrics, row_reader(metrics)(inference, training, low, high), strict=True))
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


def jsonl_lines(db: Database, task_id: str, metrics: tuple[str, ...] | None = None) -> Iterator[bytes]:
    for block in _blocks(db, task_id):
        yield b"".join(orjson.dumps(wire_result(task_id, orjson.loads(line), metrics)) + b"\n" for line in block)


def csv_lines(db: Database, task_id: str, metrics: tuple[str, ...] | None = None) -> Iterator[bytes]:
    """The CSV: the five components of each total, or the `metrics` asked for."""
    shown = WIRE_COMPONENTS if metrics is None else metrics
    values_of = "total_impact" if metrics is None else "metrics"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((*FIXED_COLUMNS, *shown, *ERROR_COLUMNS))
    yield buffer.getvalue().encode()
    for block in _blocks(db, task_id):
        buffer.seek(0)
        buffer.truncate()
        for line in block:
            result = wire_result(task_id, orjson.loads(line), metrics)
            values = result.get(values_of)
            error = result.get("error") or {}
            details = error.get("details") or {}
            writer.writerow(
                (
                    result["object_id"],
                    result["line"],
                    result["key"] or "",
                    result["status"],
                    *((values[name] for name in shown) if values else ("",) * len(shown)),
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
