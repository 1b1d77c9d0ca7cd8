"""GET /reload (admins): read the shipped catalog files again, on every worker."""

from __future__ import annotations

from flask import Blueprint, Response

from server.accounts.auth import current_principal, views
from server.api.spec import documented
from server.db import entries
from server.errors import Forbidden, json_response
from server.schemas.common import StatusResponse

bp = Blueprint("admin", __name__)


@bp.get("/reload")
@documented(
    "Admins: read the shipped catalog files again, on every worker", replies={200: StatusResponse}, errors=(403,)
)
def reload() -> Response:
    if not current_principal().is_admin:
        raise Forbidden("only an admin key may reload the catalog", reason="admin_only")
    with views().db.write() as session:
        entries.bump_version(session, reload_shipped=True)
    return json_response({"ready": True})
