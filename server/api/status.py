"""GET /status."""

from __future__ import annotations

from flask import Blueprint, Response

from server.api.spec import documented
from server.errors import json_response
from server.schemas.common import StatusResponse

bp = Blueprint("status", __name__)


@bp.get("/status")
@documented("Server status", replies={200: StatusResponse})
def status() -> Response:
    # The catalog loads in create_app: a process that answers is ready.
    return json_response({"ready": True})
