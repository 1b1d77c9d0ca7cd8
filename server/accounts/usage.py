"""Each key's use (requests, last use), counted in this worker's memory and added to `api_keys` now and then.

Counting costs a dict update per request, never a database write: every `flush_seconds` a background thread of
the worker (and the worker itself as it exits) writes one UPDATE per key used meanwhile, adding its count
(`request_count = request_count + n`, so workers add up) and moving `last_used_at` forward, never back.
`list-keys` is behind a running server by at most that interval. A flush that fails (the database briefly away)
keeps the counts for the next one; a worker killed without warning loses at most one interval of counts, which
are a signal for noticing a leaked key, not a bill. `flush_seconds=0` writes at every request (tests).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from datetime import UTC, datetime

from sqlalchemy import case, update

from server.db.database import Database
from server.db.tables import ApiKey

log = logging.getLogger("server.accounts.usage")

DEFAULT_FLUSH_SECONDS = 30.0


class KeyUsage:
    def __init__(self, db: Database, *, flush_seconds: float = DEFAULT_FLUSH_SECONDS) -> None:
        self.db = db
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, datetime]] = {}  # key digest -> (requests, last use)
        self._flusher_pid: int | None = None  # the process whose thread flushes (gunicorn forks after import)
        _LIVE.add(self)

    def record(self, key_hash: str) -> None:
        """One request made with this key (by its digest)."""
        now = datetime.now(UTC)
        with self._lock:
            count, _ = self._counts.get(key_hash, (0, now))
            self._counts[key_hash] = (count + 1, now)
            start = self.flush_seconds > 0 and self._flusher_pid != os.getpid()
            if start:
                self._flusher_pid = os.getpid()
        if self.flush_seconds <= 0:
            self.flush()
        elif start:
            thread = threading.Thread(
                target=_flush_forever, args=(weakref.ref(self), self.flush_seconds), name="key-usage", daemon=True
            )
            thread.start()

    def pending(self) -> dict[str, int]:
        """Requests counted and not yet written, per key digest."""
        with self._lock:
            return {digest: count for digest, (count, _) in self._counts.items()}

    def flush(self, *, quiet: bool = False) -> None:
        """Add the counts to the database. On failure they stay, to be added by the next flush (`quiet`: at exit,
        when logging may be closed already and there is no next flush, say nothing)."""
        with self._lock:
            counts, self._counts = self._counts, {}
        if not counts:
            return
        try:
            with self.db.write() as session:
                for digest, (count, last_used) in counts.items():
                    session.execute(
                        update(ApiKey)
                        .where(ApiKey.key_hash == digest)
                        .values(
                            request_count=ApiKey.request_count + count,
                            last_used_at=case(
                                (ApiKey.last_used_at.is_(None), last_used),
                                (ApiKey.last_used_at < last_used, last_used),
                                else_=ApiKey.last_used_at,
                            ),
                        )
                    )
        except Exception as exc:  # the database away: keep the counts, the requests they count succeeded
            if quiet:
                return
            log.warning("key usage not saved yet (%s); retrying at the next flush", type(exc).__name__)
            with self._lock:
                for digest, (count, last_used) in counts.items():
                    newer, latest = self._counts.get(digest, (0, last_used))
                    self._counts[digest] = (count + newer, max(last_used, latest))


def _flush_forever(usage_ref: weakref.ref[KeyUsage], seconds: float) -> None:
    """Flushes every `seconds` for as long as the KeyUsage lives (the thread holds no strong reference)."""
    while True:
        time.sleep(seconds)
        usage = usage_ref()
        if usage is None:
            return
        usage.flush()
        del usage


_LIVE: weakref.WeakSet[KeyUsage] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for usage in list(_LIVE):
        usage.flush(quiet=True)
