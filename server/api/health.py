"""GET /livez and GET /readyz, for Cloud Run, Kubernetes and load balancers (no key needed).

`/livez`: the process answers (restart it when it does not). `/readyz`: it can serve now: the database answers
and, when the app has a batch queue, Redis does; a 503 names the dependency that is down, so a platform takes
the instance out of rotation instead of restarting it. `/status` stays as the Scope3 spec has it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server.accounts.auth import services
from server.api.spec import Reply, documented
from server.errors import RETRY_AFTER_S, json_response

bp = Blueprint("health", __name__)


class Liveness(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alive: bool


class Readiness(BaseModel):
    """Whether the instance can serve, and each dependency's state ("ok", "down: <why>", or "not used")."""

    model_config = ConfigDict(extra="forbid")

    ready: bool
    checks: dict[str, str]


@bp.get("/livez")
@documented("Liveness: the process answers", replies={200: Liveness})
def livez() -> Response:
    return json_response({"alive": True})


@bp.get("/readyz")
@documented(
    "Readiness: the database (and Redis, when batch jobs are on) answer",
    replies={200: Readiness, 503: Reply("A dependency is down; `checks` names it", Readiness)},
)
def readyz() -> Response:
    found = services()
    checks: dict[str, str] = {}
    try:
        with found.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"down: {type(getattr(exc, 'orig', None) or exc).__name__}"
    if found.queue is None:
        checks["redis"] = "not used"
    else:
        try:
            found.queue.ping()
            checks["redis"] = "ok"
        except RedisError as exc:
            checks["redis"] = f"down: {type(exc).__name__}"
    ready = all(state in ("ok", "not used") for state in checks.values())
    body: dict[str, Any] = {"ready": ready, "checks": checks}
    if ready:
        return json_response(body)
    return json_response(body, 503, {"Retry-After": str(RETRY_AFTER_S)})
