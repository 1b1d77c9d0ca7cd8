"""Batch jobs: upload a usage file, submit a task over it (or over posted rows), follow it, download the results.

`PUT /v1/files/<name>` streams a JSONL or CSV file into the database; `POST /v1/batch` answers at once with the
task and its objects' ids while queue workers (`python -m server batch-worker`) estimate it block by block;
`GET /v1/batch/task/<id>`, `/v1/batch/task/<id>/results` and `/v1/batch/object/<id>` read it back. Everything is
the caller's account's only: another account gets 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from flask import Blueprint, Response, request, stream_with_context
from redis.exceptions import RedisError

from server.accounts.auth import current_principal, services, views
from server.api.http import current_catalog, parse_json, require_json_body
from server.batch import formats, jobs, results, upload
from server.batch.queue import BatchQueue
from server.batch.run import LINE_ERROR_FIELD
from server.db import entries
from server.db.tables import BatchTask
from server.errors import BadRequest, Conflict, NotFound, ServiceUnavailable, json_response
from server.pipeline.fields import FieldError, Places
from server.sheets.lines import line_row, table_lines
from server.sheets.metrics import metric_columns

bp = Blueprint("batch", __name__)

MAX_POSTED_ROWS = 100_000
MAX_LISTED_OBJECTS = 1000
OUTPUT_FORMATS = {"jsonl": "application/jsonl", "csv": "text/csv"}
OUTPUT_ALIASES = {"application/jsonl": "jsonl", "application/x-ndjson": "jsonl", "text/csv": "csv", "json": "jsonl"}
# The results download may answer CSV: it is exempt from the app's JSON-only Accept check.
RAW_OUTPUT_ENDPOINTS = frozenset({"batch.task_results"})


def _queue() -> BatchQueue:
    queue = services().queue
    if queue is None:
        raise ServiceUnavailable(
            "batch jobs need a job queue: set REDIS_URL and run workers with `python -m server batch-worker`",
            reason="no_job_queue",
        )
    return queue


@bp.put("/v1/files/<name>")
def put_file(name: str) -> Response:
    settings = services().settings
    request.max_content_length = settings.MAX_UPLOAD_BYTES
    if request.mimetype == "multipart/form-data":
        sent = request.files.get("file")
        if sent is None:
            raise BadRequest(
                "multipart upload: put the file in a field named 'file' (-F file=@usage.jsonl)", field="file"
            )
        stream, content_type = sent.stream, sent.mimetype
    else:
        stream, content_type = request.stream, request.mimetype
    stored = upload.store_upload(
        views().db,
        account_id=current_principal().account_id,
        name=name,
        stream=stream,
        limit=settings.MAX_UPLOAD_BYTES,
        content_type=content_type,
    )
    return json_response(stored.to_wire(), 201)


@bp.get("/v1/files/<file_id>")
def get_file(file_id: str) -> Response:
    found = jobs.file_for(views().db, current_principal().account_id, file_id)
    if found is None:
        raise NotFound(f"no file {file_id!r}", field="file_id")
    stored = upload.StoredFile(found.id, found.name, found.format, found.bytes, found.lines, found.created_at)
    return json_response(stored.to_wire())


def _posted_rows(body: Any) -> list[Any]:
    rows = body if isinstance(body, list) else body.get("rows")
    if not isinstance(rows, list) or not rows:
        raise BadRequest('send {"rows": [...]} (impact rows or usage lines) or {"file_id": "..."}', field="rows")
    if len(rows) > MAX_POSTED_ROWS:
        raise BadRequest(f"rows: at most {MAX_POSTED_ROWS:,} per request; upload a file for more", field="rows")
    if not all(isinstance(row, dict) for row in rows):
        raise BadRequest("rows: every item must be a JSON object", field="rows")
    return rows


@bp.post("/v1/batch")
def submit() -> Response:
    body = parse_json(require_json_body())
    queue = _queue()
    account_id = current_principal().account_id
    db = views().db
    if isinstance(body, dict) and "file_id" in body:
        file_id = body["file_id"]
        if not isinstance(file_id, str) or jobs.file_for(db, account_id, file_id) is None:
            raise NotFound(f"no file {file_id!r}: upload it with PUT /v1/files/<name>", field="file_id")
    elif isinstance(body, dict) and "table" in body:
        records = _table_records(body["table"], body.get("first_row", 1))
        if not records:
            raise BadRequest("table: no rows to estimate under the header", field="table")
        file_id = upload.store_records(
            db, account_id=account_id, name="sheet.jsonl", fmt=formats.LineFormat.IMPACT_ROWS.value, records=records
        ).id
    elif isinstance(body, dict | list):
        rows = _posted_rows(body)
        records = [orjson.dumps(row) for row in rows]
        try:
            fmt = formats.detect_jsonl(records[0]).value
        except formats.FormatError as exc:
            raise BadRequest(f"rows: {exc}", field="rows", reason="unknown_format") from exc
        file_id = upload.store_records(db, account_id=account_id, name="rows.jsonl", fmt=fmt, records=records).id
    else:
        raise BadRequest("send a JSON object with rows or file_id", field="rows")
    submitted = jobs.submit(db, account_id=account_id, file_id=file_id)
    try:
        queue.enqueue(submitted.task_id, submitted.blocks)
    except RedisError as exc:
        jobs.fail(db, submitted.task_id, f"the job queue could not be reached: {exc}")
        raise ServiceUnavailable(
            "the batch job queue (Redis) is not reachable; the task was not started, try again later",
            reason="job_queue_down",
        ) from exc
    listed = min(submitted.total_items, MAX_LISTED_OBJECTS)
    return json_response(
        {
            "task_id": submitted.task_id,
            "status": jobs.QUEUED,
            "total_items": submitted.total_items,
            "file_id": file_id,
            "objects": [
                {"object_id": results.object_id(submitted.task_id, line), "status": jobs.QUEUED}
                for line in range(1, listed + 1)
            ],
            "objects_truncated": listed < submitted.total_items,
        },
        202,
    )


def _table_records(table: Any, first_row: Any) -> list[bytes]:
    """A sheet's table (header row first, as the Sheets functions take it) as impact rows; each row's
    `request_id` is its sheet row ("row 7") so results can be written back beside it. Blank rows are left out."""
    if not isinstance(table, list):
        raise BadRequest("table: a 2-D array, the header row first", field="table")
    if not isinstance(first_row, int) or first_row < 1:
        raise BadRequest("first_row: the sheet row number of the header (1 or more)", field="first_row")
    lines = table_lines(table, Places(current_catalog()), max_lines=MAX_POSTED_ROWS)
    records = []
    for number, line in enumerate(lines, start=first_row + 1):
        if line is None:
            continue
        key = f"row {number}"
        if isinstance(line, FieldError):
            records.append(orjson.dumps({"request_id": key, LINE_ERROR_FIELD: line.message}))
        else:
            records.append(orjson.dumps({**line_row(line), "request_id": key}))
    return records


def _task(task_id: str) -> BatchTask:
    found = jobs.task_for(views().db, current_principal().account_id, task_id)
    if found is None:
        raise NotFound(f"no task {task_id!r}", field="task_id")
    return found


def task_wire(task: BatchTask) -> dict[str, Any]:
    done = task.completed_items + task.failed_items
    return {
        "task_id": task.id,
        "status": task.status,
        "total_items": task.total_items,
        "counts": {"queued": task.total_items - done, "completed": task.completed_items, "failed": task.failed_items},
        "progress": round(done / task.total_items, 4) if task.total_items else 1.0,
        "file_id": task.file_id,
        "created_at": entries.stamp(task.created_at),
        "completed_at": entries.stamp(task.completed_at) if task.completed_at else None,
        "error": task.error,
        "results": {kind: f"/v1/batch/task/{task.id}/results?format={kind}" for kind in OUTPUT_FORMATS},
    }


@bp.get("/v1/batch/task/<task_id>")
def get_task(task_id: str) -> Response:
    return json_response(task_wire(_task(task_id)))


def _output_format() -> str:
    asked = request.args.get("format") or request.headers.get("Output-Format")
    if asked is None:
        best = request.accept_mimetypes.best_match(["application/jsonl", "text/csv", "application/json"])
        asked = "csv" if best == "text/csv" else "jsonl"
    kind = asked.strip().lower()
    kind = OUTPUT_ALIASES.get(kind, kind)
    if kind not in OUTPUT_FORMATS:
        raise BadRequest(f"format: {asked!r} is not jsonl or csv", field="format", reason="unknown_format")
    return kind


@bp.get("/v1/batch/task/<task_id>/results")
def task_results(task_id: str) -> Response:
    kind = _output_format()
    task = _task(task_id)
    if task.status != jobs.COMPLETED:
        raise Conflict(
            f"task {task_id} is {task.status} ({task_wire(task)['progress']:.0%} done); results come when it completes",
            field="task_id",
            reason="not_completed",
        )
    db = views().db
    # `metric`, as the Sheets functions take it (blank: their default columns), names the metrics to add.
    asked = request.args.get("metric")
    metrics = None if asked is None else metric_columns(asked)
    write = results.jsonl_lines if kind == "jsonl" else results.csv_lines
    lines: Iterator[bytes] = write(db, task.id, metrics)
    filename = f"impacts-{task.id}.{kind}"
    return Response(
        stream_with_context(lines),
        mimetype=OUTPUT_FORMATS[kind],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/v1/batch/object/<object_id>")
def get_object(object_id: str) -> Response:
    parts = results.split_object_id(object_id)
    task = jobs.task_for(views().db, current_principal().account_id, parts[0]) if parts else None
    if parts is None or task is None or not 1 <= parts[1] <= task.total_items:
        raise NotFound(f"no object {object_id!r}", field="object_id")
    stored = results.stored_result(views().db, task.id, parts[1])
    if stored is None:
        status = jobs.FAILED if task.status == jobs.FAILED else jobs.QUEUED
        return json_response({"object_id": object_id, "task_id": task.id, "line": parts[1], "status": status})
    return json_response({"task_id": task.id, **results.wire_result(task.id, stored)})
