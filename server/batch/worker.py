"""What a batch worker process loads: `dramatiq server.batch.worker:broker` (`python -m server batch-worker`).

Each worker process builds the app once (settings, database, catalog views) and consumes the batch queue with it.
"""

from __future__ import annotations

import dramatiq

from server.app import create_app
from server.batch.queue import BatchQueue
from server.settings import SettingsError

app = create_app()
queue: BatchQueue | None = app.extensions.get("batch_queue")
if queue is None:
    raise SettingsError("REDIS_URL: batch workers need the job queue's Redis (e.g. redis://127.0.0.1:6379/0)")
broker = queue.broker
dramatiq.set_broker(broker)
