"""Rate limits per API key (Flask-Limiter): `RATE_LIMIT_PER_MINUTE`, shared through Redis when `REDIS_URL` is
set (every worker and instance counts against one budget), in this process's memory otherwise.

Over the limit: 429 with `Retry-After` and the spec's `Error` body. Requests without a key (`/status`,
`/openapi.json`) are not counted. The limiter's key is the API key's digest, never the key.
"""

from __future__ import annotations

from flask import Flask, g
from flask_limiter import Limiter

from server.settings import Settings

KEY_PREFIX = "scope3ai-limits"


def _limit_key() -> str:
    principal = getattr(g, "principal", None)
    return f"key:{principal.key_hash}" if principal is not None else "anonymous"


def _unauthenticated() -> bool:
    return getattr(g, "principal", None) is None


def init_limits(app: Flask, settings: Settings) -> Limiter:
    """Call after `init_auth`: the limiter's check must run after the caller is known."""
    limiter = Limiter(
        key_func=_limit_key,
        default_limits=[f"{settings.RATE_LIMIT_PER_MINUTE} per minute"],
        default_limits_exempt_when=_unauthenticated,
        storage_uri=settings.REDIS_URL or "memory://",
        strategy="moving-window",  # exact: no double budget across a window boundary
        headers_enabled=True,
        key_prefix=KEY_PREFIX,
        # Redis down: count in memory for the while rather than failing every request.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.init_app(app)
    return limiter
