"""Bounded retries around Sheets API calls.

gspread 6.2's `BackOffHTTPClient` retries a persistent 429/5xx forever; the plain `HTTPClient` does not retry at
all. `Retrier.call` retries one call on 429, 5xx, timeouts and connection errors with exponential back-off and
jitter: the n-th wait is uniform in [0.5, 1] * min(max_delay, base * 2**(n-1)) (a longer `Retry-After` is honoured, up
to max_delay), at most `attempts` tries, never past the run's deadline. Each try is bounded by the per-request
timeout (shortened to the time left before the deadline). Then it raises `SyncError` naming the step.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from google.auth import exceptions as auth_exceptions
from gspread.exceptions import APIError

from server.sync.errors import PermissionDenied, SpreadsheetNotFound, SyncError

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 429})  # and every 5xx


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6
    base_delay_s: float = 1.0
    max_delay_s: float = 32.0
    deadline_s: float = 120.0  # the whole sync run
    timeout_s: float = 30.0  # one HTTP request

    def __post_init__(self) -> None:
        if self.attempts < 1 or min(self.base_delay_s, self.max_delay_s, self.deadline_s, self.timeout_s) <= 0:
            raise ValueError(f"invalid retry policy: {self}")


def _retry_after(response: requests.Response | None) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own back-off


class Retrier:
    """Runs the calls of one sync run under one policy and one deadline, counting HTTP requests."""

    def __init__(
        self,
        policy: RetryPolicy,
        spreadsheet_key: str,
        *,
        set_timeout: Callable[[float], None],
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy
        self.key = spreadsheet_key
        self._set_timeout = set_timeout
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self.started = clock()
        self.deadline = self.started + policy.deadline_s
        self.requests = 0

    def elapsed(self) -> float:
        return self._clock() - self.started

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """The wait after failed attempt `attempt` (1-based)."""
        ceiling = min(self.policy.max_delay_s, self.policy.base_delay_s * 2.0 ** (attempt - 1))
        wait = ceiling * (0.5 + 0.5 * self._jitter())
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.policy.max_delay_s))
        return wait

    def _deadline_limit(self) -> str:
        return f"the sync's deadline of {self.policy.deadline_s:g}s"

    def _gave_up(self, step: str, failure: str, limit: str, status: int | None) -> SyncError:
        """The error of a call that kept failing until `limit` (attempts or the deadline) stopped it."""
        return SyncError(
            f"{step}: the Sheets API kept failing ({failure}); gave up after {limit} ({self.elapsed():.1f}s)",
            spreadsheet_key=self.key,
            status=status,
        )

    def call(self, step: str, fn: Callable[[], T]) -> T:
        attempt = 0
        # The previous attempt's failure, once one has failed.
        failure: str = ""
        failed_status: int | None = None
        last: Exception | None = None
        while True:
            attempt += 1
            left = self.deadline - self._clock()
            if left <= 0:
                if last is not None:  # a wait ran past the deadline (a slow or busy machine): say what failed
                    raise self._gave_up(step, failure, self._deadline_limit(), failed_status) from last
                raise SyncError(
                    f"{step}: gave up, {self._deadline_limit()} has passed",
                    spreadsheet_key=self.key,
                )
            self._set_timeout(min(self.policy.timeout_s, left))
            self.requests += 1
            try:
                return fn()
            except APIError as exc:
                status = exc.response.status_code
                message = str(exc.error.get("message", "")) or exc.response.reason or ""
                if status == 404:
                    raise SpreadsheetNotFound(
                        f"spreadsheet {self.key!r} not found ({step}: {message}); check the key, the part of the "
                        "spreadsheet's URL between /d/ and /edit",
                        spreadsheet_key=self.key,
                        status=status,
                    ) from exc
                if status == 403:
                    raise PermissionDenied(
                        f"permission denied on spreadsheet {self.key!r} ({step}: {message})",
                        spreadsheet_key=self.key,
                        status=status,
                    ) from exc
                if status not in RETRYABLE_STATUS and status < 500:
                    raise SyncError(
                        f"{step}: the Sheets API answered {status}: {message}", spreadsheet_key=self.key, status=status
                    ) from exc
                failure, retry_after, failed_status = f"{status} {message}".strip(), _retry_after(exc.response), status
                last = exc
            except (requests.Timeout, requests.ConnectionError, auth_exceptions.TransportError) as exc:
                kind = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
                failure, retry_after, failed_status, last = f"{kind} ({exc})", None, None, exc
            except auth_exceptions.RefreshError as exc:
                raise SyncError(f"{step}: could not get an access token: {exc}", spreadsheet_key=self.key) from exc
            wait = self.delay(attempt, retry_after)
            if attempt >= self.policy.attempts or self._clock() + wait >= self.deadline:
                limit = (
                    f"{attempt} attempt{'s' if attempt > 1 else ''}"
                    if attempt >= self.policy.attempts
                    else self._deadline_limit()
                )
                raise self._gave_up(step, failure, limit, failed_status) from last
            self._sleep(wait)
