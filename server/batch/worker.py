"""What a batch worker process loads: `dramatiq server.batch.worker:broker` (`python -m server batch-worker`).

Each worker process builds its services once (settings, database, catalog views, queue), not the Flask app, and
consumes the batch queue with them.
"""

from __future__ import annotations

import dramatiq

from server.logs import configure_logging
from server.services import build_services
from server.settings import SettingsError, load_settings

settings = load_settings()
configure_logging(settings.LOG_LEVEL)
services = build_services(settings)
if services.queue is None:
    raise SettingsError("REDIS_URL: batch workers need the job queue's Redis (e.g. redis://127.0.0.1:6379/0)")
broker = services.queue.broker
dramatiq.set_broker(broker)
