"""GET /status."""

from __future__ import annotations

from flask import Blueprint, Response

from server.errors import json_response

bp = Blueprint("status", __name__)


@bp.get("/status")
def status() -> Response:
    # The catalog loads in create_app: a process that answers is ready.
    return json_response({"ready": True})
