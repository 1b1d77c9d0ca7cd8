"""The job queue of batch tasks: Dramatiq on Redis (`REDIS_URL`), one message per block of a task.

Dramatiq acknowledges a message only after its actor returns; a worker that dies holding messages stops sending
heartbeats, and after `BATCH_HEARTBEAT_TIMEOUT_MS` another worker's queue maintenance puts them back. A block
that raises (the database briefly away) is retried with exponential back-off; once its retries are spent the
task is marked failed with the reason. `jobs.run_block` makes a second delivery harmless.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from server.accounts.views import CatalogViews
from server.batch import jobs
from server.db.database import Database
from server.settings import Settings

QUEUE_NAME = "batch"
MAX_RETRIES = 8
MIN_BACKOFF_MS = 500
MAX_BACKOFF_MS = 30_000
BLOCK_TIME_LIMIT_MS = 10 * 60 * 1000  # a 10,000-line block takes well under a second


class BatchQueue:
    def __init__(self, settings: Settings, *, db: Database, views: CatalogViews) -> None:
        assert settings.REDIS_URL is not None
        self.db = db
        self.views = views
        self.broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=settings.REDIS_URL,
            namespace=settings.BATCH_QUEUE_NAMESPACE,
            heartbeat_timeout=settings.BATCH_HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=settings.BATCH_MAINTENANCE_CHANCE,
        )
        self.block_failed = dramatiq.Actor(
            self._block_failed,
            broker=self.broker,
            actor_name="batch_block_failed",
            queue_name=QUEUE_NAME,
            priority=0,
            options={"max_retries": 3},
        )
        self.run_block = dramatiq.Actor(
            self._run_block,
            broker=self.broker,
            actor_name="batch_run_block",
            queue_name=QUEUE_NAME,
            priority=0,
            options={
                "max_retries": MAX_RETRIES,
                "min_backoff": MIN_BACKOFF_MS,
                "max_backoff": MAX_BACKOFF_MS,
                "time_limit": BLOCK_TIME_LIMIT_MS,
                "on_retry_exhausted": "batch_block_failed",
            },
        )

    def ping(self) -> None:
        """Raises a RedisError when the queue's Redis does not answer (readiness checks)."""
        self.broker.client.ping()

    def enqueue(self, task_id: str, blocks: int) -> None:
        for block_no in range(blocks):
            self.run_block.send(task_id, block_no)

    def _run_block(self, task_id: str, block_no: int) -> None:
        jobs.run_block(self.db, self.views, task_id, block_no)

    def _block_failed(self, message: dict[str, Any], retries: dict[str, Any]) -> None:
        task_id, block_no = message["args"]
        jobs.fail(
            self.db,
            task_id,
            f"block {block_no} failed {retries.get('retries', '?')} times; last error: "
            f"{message.get('options', {}).get('traceback', 'unknown').strip().splitlines()[-1]}",
        )
