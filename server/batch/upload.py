"""An uploaded usage file, streamed into blocks of records: never whole in memory.

A JSONL file's records are its non-blank lines, kept as sent; a CSV file's records are its rows (quoted fields may
span lines), kept as JSON arrays, its header stored apart as field names. Every `BLOCK_LINES` records make one
zlib-compressed block, written in its own short transaction; the file's row is completed last, so a failed upload
leaves nothing behind.
"""

from __future__ import annotations

import codecs
import csv
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

import orjson
from sqlalchemy import delete

from server.batch import formats
from server.db.database import Database
from server.db.entries import stamp
from server.db.tables import BatchFile, BatchFileBlock
from server.pipeline.errors import InputError, InputTooLarge

BLOCK_LINES = 10_000  # records per block: the unit of storage, of work for a job, and of results
READ_BYTES = 1 << 20
COMPRESSION_LEVEL = 1  # zlib's fastest: usage files shrink 4-8x at hundreds of MB/s
CSV_NAMES = (".csv",)
CSV_TYPES = ("text/csv", "application/csv")


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    name: str
    format: str
    bytes: int
    lines: int
    created_at: datetime

    def to_wire(self) -> dict[str, object]:
        return {
            "file_id": self.id,
            "file_name": self.name,
            "bytes": self.bytes,
            "lines": self.lines,
            "format": self.format,
            "created_at": stamp(self.created_at),
        }


class _Counter:
    """Reads a request body in chunks, refusing to go past `limit` bytes (413)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.total = 0

    def chunks(self) -> Iterator[bytes]:
        while True:
            chunk = self.stream.read(READ_BYTES)
            if not chunk:
                return
            self.total += len(chunk)
            if self.total > self.limit:
                raise InputTooLarge(
                    f"the file is larger than the {self.limit:,}-byte limit (MAX_UPLOAD_BYTES); split it",
                    reason="file_too_large",
                )
            yield chunk


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a byte stream, each with its line break (the last one maybe without)."""
    tail = b""
    for chunk in chunks:
        parts = (tail + chunk).split(b"\n")
        tail = parts.pop()
        for part in parts:
            yield part + b"\n"
    if tail:
        yield tail


def _jsonl_records(lines: Iterable[bytes]) -> Iterator[bytes]:
    for line in lines:
        record = line.strip()
        if record:
            yield record


def _csv_records(lines: Iterable[bytes]) -> Iterator[list[str]]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    reader = csv.reader(decoder.decode(line) for line in lines)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                yield row
    except csv.Error as exc:  # a stray carriage return in an unquoted field, a NUL byte...
        raise InputError(f"CSV line {reader.line_num}: {exc}", field="file", reason="bad_csv") from exc


def is_csv(name: str, content_type: str | None, first_line: bytes) -> bool:
    if name.lower().endswith(CSV_NAMES) or (content_type or "").split(";")[0].strip() in CSV_TYPES:
        return True
    return not first_line.lstrip(b"\xef\xbb\xbf \t").startswith(b"{")


def store_upload(
    db: Database, *, account_id: int, name: str, stream: IO[bytes], limit: int, content_type: str | None
) -> StoredFile:
    """Reads, checks and stores one uploaded file; 400 when its format is unusable, 413 past `limit` bytes."""
    counter = _Counter(stream, limit)
    lines = _lines(counter.chunks())
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise InputError("the file is empty: send JSONL (one JSON object per line) or CSV with a header", field="file")
    rest = _chain(first, lines)
    csv_fields: list[str] | None = None
    records: Iterator[bytes]
    if is_csv(name, content_type, first):
        rows = _csv_records(rest)
        header = next(rows, None)
        if header is None:
            raise InputError("the CSV file has no header row", field="file")
        try:
            csv_fields = formats.detect_csv(header)
        except formats.FormatError as exc:
            raise InputError(f"CSV header: {exc}", field="file", reason="bad_csv_header") from exc
        format_name = formats.LineFormat.CSV.value
        records = (orjson.dumps(row) for row in rows)
    else:
        try:
            format_name = formats.detect_jsonl(first.strip()).value
        except formats.FormatError as exc:
            raise InputError(str(exc), field="file", reason="unknown_format") from exc
        records = _jsonl_records(rest)
    return _store(
        db, account_id=account_id, name=name, fmt=format_name, csv_fields=csv_fields, records=records, counter=counter
    )


def store_records(
    db: Database, *, account_id: int, name: str, fmt: str, records: Iterable[bytes], csv_fields: list[str] | None = None
) -> StoredFile:
    """Stores records made by the server itself (rows posted to `/v1/batch`) as a file."""
    return _store(
        db, account_id=account_id, name=name, fmt=fmt, csv_fields=csv_fields, records=iter(records), counter=None
    )


def _store(
    db: Database,
    *,
    account_id: int,
    name: str,
    fmt: str,
    csv_fields: list[str] | None,
    records: Iterator[bytes],
    counter: _Counter | None,
) -> StoredFile:
    file_id = str(uuid.uuid4())
    created = datetime.now(UTC)
    with db.write() as session:
        session.add(
            BatchFile(
                id=file_id,
                account_id=account_id,
                name=name[:255],
                format=fmt,
                csv_fields=csv_fields,
                bytes=0,
                lines=-1,
                blocks=0,
                created_at=created,
            )
        )  # lines -1: still uploading, invisible to every reader
    lines = blocks = size = 0
    try:
        block: list[bytes] = []
        for record in records:
            block.append(record)
            size += len(record) + 1
            if len(block) == BLOCK_LINES:
                _write_block(db, file_id, blocks, lines + 1, block)
                lines += len(block)
                blocks += 1
                block = []
        if block:
            _write_block(db, file_id, blocks, lines + 1, block)
            lines += len(block)
            blocks += 1
        if lines == 0:
            raise InputError("the file has no records after its header", field="file")
        with db.write() as session:
            stored = session.get(BatchFile, file_id)
            assert stored is not None
            stored.lines, stored.blocks = lines, blocks
            stored.bytes = counter.total if counter is not None else size
    except BaseException:
        with db.write() as session:
            session.execute(delete(BatchFileBlock).where(BatchFileBlock.file_id == file_id))
            session.execute(delete(BatchFile).where(BatchFile.id == file_id))
        raise
    return StoredFile(file_id, name, fmt, counter.total if counter is not None else size, lines, created)


def _write_block(db: Database, file_id: str, block_no: int, first_line: int, records: list[bytes]) -> None:
    data = zlib.compress(b"\n".join(records), COMPRESSION_LEVEL)
    with db.write() as session:
        session.add(
            BatchFileBlock(file_id=file_id, block_no=block_no, first_line=first_line, lines=len(records), data=data)
        )


def read_block(data: bytes) -> list[bytes]:
    return zlib.decompress(data).split(b"\n")


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest
