"""Batch tasks in the database: submit one, run one of its blocks, read its state.

A task covers one stored file; its work is one job per block of the file. `run_block` is what a queue worker
calls: it computes the block's results and writes them, with the task's counters, in one transaction; the
results table refuses a second row for the same block, so a job delivered twice (a worker killed after the
commit, before the queue heard of it) changes nothing the second time.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from server.accounts.views import CatalogViews
from server.batch.run import estimate_block
from server.batch.upload import COMPRESSION_LEVEL, read_block
from server.db.database import Database
from server.db.tables import BatchFile, BatchFileBlock, BatchResult, BatchTask

log = logging.getLogger("server.batch")

QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"


@dataclass(frozen=True, slots=True)
class Submitted:
    task_id: str
    total_items: int
    blocks: int


def submit(
    db: Database, *, account_id: int, file_id: str, methodology_version: str | None = None, ranges: bool = False
) -> Submitted:
    """A new task over a stored file (already checked to be the account's), noting the methodology that took it;
    with `ranges`, its lines' lows and highs are stored too."""
    with db.write() as session:
        stored = session.get(BatchFile, file_id)
        assert stored is not None and stored.account_id == account_id
        task = BatchTask(
            id=str(uuid.uuid4()),
            account_id=account_id,
            file_id=file_id,
            status=QUEUED,
            total_items=stored.lines,
            blocks=stored.blocks,
            blocks_done=0,
            completed_items=0,
            failed_items=0,
            created_at=datetime.now(UTC),
            methodology_version=methodology_version,
            ranges=ranges,
        )
        session.add(task)
    return Submitted(task.id, task.total_items, task.blocks)


def run_block(db: Database, views: CatalogViews, task_id: str, block_no: int) -> None:
    """Computes and stores one block of a task, once. Exceptions (a database gone away) go to the queue's retry."""
    with db.read() as session:
        task = session.get(BatchTask, task_id)
        if task is None:
            log.warning("batch block of a deleted task", extra={"task_id": task_id, "block": block_no})
            return
        if session.get(BatchResult, (task_id, block_no)) is not None:
            return  # delivered again after it was done
        stored = session.get(BatchFile, task.file_id)
        block = session.get(BatchFileBlock, (task.file_id, block_no))
        assert stored is not None and block is not None
        account_id, ranges = task.account_id, task.ranges
        records, fmt, fields, first_line = read_block(block.data), stored.format, stored.csv_fields, block.first_line
    caller = views.caller(account=account_id)
    assert caller is not None  # an account's tasks go with it
    pipeline = caller.view.pipeline
    results, completed, failed = estimate_block(
        pipeline, records, fmt=fmt, csv_fields=fields, first_line=first_line, ranges=ranges
    )
    data = zlib.compress(b"\n".join(results), COMPRESSION_LEVEL)
    try:
        with db.write() as session:
            session.add(
                BatchResult(
                    task_id=task_id,
                    block_no=block_no,
                    completed=completed,
                    failed=failed,
                    data=data,
                    methodology_version=pipeline.catalog.methodology_version,
                )
            )
            session.flush()
            session.execute(
                update(BatchTask)
                .where(BatchTask.id == task_id)
                .values(
                    blocks_done=BatchTask.blocks_done + 1,
                    completed_items=BatchTask.completed_items + completed,
                    failed_items=BatchTask.failed_items + failed,
                    status=RUNNING,
                )
            )
            session.execute(
                update(BatchTask)
                .where(BatchTask.id == task_id, BatchTask.blocks_done == BatchTask.blocks)
                .values(status=COMPLETED, completed_at=datetime.now(UTC))
            )
    except IntegrityError:
        log.info("batch block already stored by another delivery", extra={"task_id": task_id, "block": block_no})


def fail(db: Database, task_id: str, message: str) -> None:
    """A block gave up after its retries: the task stops as failed, saying why."""
    with db.write() as session:
        session.execute(
            update(BatchTask)
            .where(BatchTask.id == task_id, BatchTask.status != COMPLETED)
            .values(status=FAILED, error=message[:2000], completed_at=datetime.now(UTC))
        )


def methodology_versions(db: Database, task_id: str) -> list[str]:
    """The methodology versions the task's finished blocks were computed with (one, unless a deploy came between)."""
    with db.read() as session:
        found = session.scalars(
            select(BatchResult.methodology_version)
            .where(BatchResult.task_id == task_id, BatchResult.methodology_version.is_not(None))
            .distinct()
        )
        return sorted(v for v in found if v)


def task_for(db: Database, account_id: int, task_id: str) -> BatchTask | None:
    with db.read() as session:
        return session.scalars(
            select(BatchTask).where(BatchTask.id == task_id, BatchTask.account_id == account_id)
        ).first()


def file_for(db: Database, account_id: int, file_id: str) -> BatchFile | None:
    with db.read() as session:
        return session.scalars(
            select(BatchFile).where(BatchFile.id == file_id, BatchFile.account_id == account_id, BatchFile.lines >= 0)
        ).first()
