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
from pydantic import ValidationError
from redis.exceptions import RedisError

from server.accounts.auth import current_principal, services, views
from server.api.http import current_catalog, parse_json, query_flag, require_json_body
from server.api.spec import Reply, documented
from server.batch import formats, jobs, results, upload
from server.batch.queue import BatchQueue
from server.batch.run import LINE_ERROR_FIELD
from server.db import entries
from server.db.database import Database
from server.db.tables import BatchTask
from server.errors import BadRequest, Conflict, NotFound, ServiceUnavailable, from_validation_error, json_response
from server.pipeline.equivalences import ENERGY_CLASS
from server.pipeline.fields import FieldError, Places
from server.pipeline.metrics import needs_ranges
from server.schemas.batch import (
    MAX_LISTED_OBJECTS,
    MAX_POSTED_ROWS,
    BatchObject,
    BatchRequest,
    BatchSubmitted,
    ResultsQuery,
    StoredFile,
    SubmitQuery,
)
from server.schemas.batch import BatchTask as BatchTaskWire
from server.sheets.lines import line_row, table_lines
from server.sheets.metrics import metric_columns

bp = Blueprint("batch", __name__)

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


# The body is the file's bytes, whatever its Content-Type (application/jsonl, text/csv, multipart with `file`).
UPLOAD_EXAMPLE = '{"model_id": "gpt-4o", "input_tokens": 1200, "output_tokens": 300}\n'
UPLOAD_MEDIA = {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}, "example": UPLOAD_EXAMPLE}
}
FILE_FOR_PUT = {"file": "the file's name; .csv means CSV, anything else JSONL"}
FILE_FOR_GET = {"file": "the file_id PUT answered"}
TASK_ID = {"task_id": "the task_id POST /v1/batch answered"}


@bp.put("/v1/files/<file>")
@documented(
    "Upload a usage file (JSONL or CSV, streamed; 413 past MAX_UPLOAD_BYTES)",
    path=FILE_FOR_PUT,
    body_media=UPLOAD_MEDIA,
    replies={201: Reply("The stored file", StoredFile)},
)
def put_file(file: str) -> Response:
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
        name=file,
        stream=stream,
        limit=settings.MAX_UPLOAD_BYTES,
        content_type=content_type,
    )
    return json_response(stored.to_wire(), 201)


@bp.get("/v1/files/<file>")
@documented("An uploaded file", path=FILE_FOR_GET, replies={200: Reply("The stored file", StoredFile)}, errors=(404,))
def get_file(file: str) -> Response:
    found = jobs.file_for(views().db, current_principal().account_id, file)
    if found is None:
        raise NotFound(f"no file {file!r}", field="file_id")
    stored = upload.StoredFile(found.id, found.name, found.format, found.bytes, found.lines, found.created_at)
    return json_response(stored.to_wire())


def _posted_rows(rows: list[Any]) -> list[Any]:
    """A bare JSON array of rows, checked as `BatchRequest.rows` would be."""
    if not rows:
        raise BadRequest("rows: send at least one row", field="rows")
    if len(rows) > MAX_POSTED_ROWS:
        raise BadRequest(f"rows: at most {MAX_POSTED_ROWS:,} per request; upload a file for more", field="rows")
    if not all(isinstance(row, dict) for row in rows):
        raise BadRequest("rows: every item must be a JSON object", field="rows")
    return rows


def _stored_rows(db: Database, account_id: int, rows: list[Any]) -> str:
    records = [orjson.dumps(row) for row in rows]
    try:
        fmt = formats.detect_jsonl(records[0]).value
    except formats.FormatError as exc:
        raise BadRequest(f"rows: {exc}", field="rows", reason="unknown_format") from exc
    return upload.store_records(db, account_id=account_id, name="rows.jsonl", fmt=fmt, records=records).id


def _file_id(body: Any, account_id: int) -> str:
    """The stored file a submission runs over: the one it names, or one made of its rows or table."""
    db = views().db
    if isinstance(body, list):
        return _stored_rows(db, account_id, _posted_rows(body))
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object with rows, table or file_id (or a JSON array of rows)", field="rows")
    try:
        asked = BatchRequest.model_validate(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
    if asked.file_id is not None:
        if jobs.file_for(db, account_id, asked.file_id) is None:
            raise NotFound(f"no file {asked.file_id!r}: upload it with PUT /v1/files/<name>", field="file_id")
        return asked.file_id
    if asked.table is not None:
        records = _table_records(asked.table, asked.first_row)
        if not records:
            raise BadRequest("table: no rows to estimate under the header", field="table")
        fmt = formats.LineFormat.IMPACT_ROWS.value
        return upload.store_records(db, account_id=account_id, name="sheet.jsonl", fmt=fmt, records=records).id
    if asked.rows is None:
        raise BadRequest('send {"rows": [...]} (impact rows or usage lines) or {"file_id": "..."}', field="rows")
    return _stored_rows(db, account_id, asked.rows)


@bp.post("/v1/batch")
@documented(
    "Submit a batch task over rows, a sheet's table or an uploaded file",
    query=SubmitQuery,
    body=BatchRequest,
    description="The body may also be a bare JSON array of rows.",
    replies={202: Reply("The queued task and its objects", BatchSubmitted)},
    errors=(404, 503),
)
def submit() -> Response:
    body = parse_json(require_json_body())
    queue = _queue()
    account_id = current_principal().account_id
    db = views().db
    ranges = bool(query_flag("ranges"))
    file_id = _file_id(body, account_id)
    version = current_catalog().methodology_version
    submitted = jobs.submit(db, account_id=account_id, file_id=file_id, methodology_version=version, ranges=ranges)
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


def _table_records(table: list[Any], first_row: int) -> list[bytes]:
    """A sheet's table (header row first, as the Sheets functions take it) as impact rows; each row's
    `request_id` is its sheet row ("row 7") so results can be written back beside it. Blank rows are left out."""
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
        "methodology_version": task.methodology_version,
        "ranges": task.ranges,
        "results": {kind: f"/v1/batch/task/{task.id}/results?format={kind}" for kind in OUTPUT_FORMATS},
    }


@bp.get("/v1/batch/task/<task_id>")
@documented("A task's status, counts and progress", path=TASK_ID, replies={200: BatchTaskWire}, errors=(404,))
def get_task(task_id: str) -> Response:
    task = _task(task_id)
    return json_response(
        {**task_wire(task), "computed_with_methodology": jobs.methodology_versions(views().db, task.id)}
    )


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


RESULTS_MEDIA = {
    "application/jsonl": {"schema": {"type": "string", "description": "one BatchObject per line"}},
    "text/csv": {"schema": {"type": "string", "description": "a header row, then one row per line"}},
}


@bp.get("/v1/batch/task/<task_id>/results")
@documented(
    "A completed task's results, one per line (?format=jsonl|csv or Output-Format)",
    path=TASK_ID,
    query=ResultsQuery,
    replies={200: Reply("Results", media=RESULTS_MEDIA, headers={"Content-Disposition": "the file name"})},
    errors=(404, 409),
)
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
    if metrics is not None and ENERGY_CLASS in metrics:
        raise BadRequest(
            "metric: energy_class is a Sheets column (it reads each line's output tokens); ask the batch results "
            "for numbers, e.g. energy_wh, and the class is energy_wh x 1000 / output tokens in the bands the README "
            "lists",
            field="metric",
            reason="sheets_only",
        )
    if metrics is not None and needs_ranges(metrics) and not task.ranges:
        raise BadRequest(
            f"metric: task {task_id} was submitted without ranges; submit it again with POST /v1/batch?ranges=true "
            "to have each line's low and high",
            field="metric",
            reason="no_ranges",
        )
    write = results.jsonl_lines if kind == "jsonl" else results.csv_lines
    lines: Iterator[bytes] = write(db, task.id, metrics)
    filename = f"impacts-{task.id}.{kind}"
    return Response(
        stream_with_context(lines),
        mimetype=OUTPUT_FORMATS[kind],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/v1/batch/object/<object_id>")
@documented(
    "One line's status and impact, or its error",
    path={"object_id": "<task_id>-<line>, as the task lists them"},
    replies={200: BatchObject},
    errors=(404,),
)
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
