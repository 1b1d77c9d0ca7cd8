"""GET /v1/sync/catalog: App Engine cron refreshes the catalog tabs of the spreadsheets in `SYNC_SPREADSHEETS`.

Only App Engine cron may call it: cron requests carry `X-Appengine-Cron: true`, and App Engine strips that header
from every request coming from outside, so on App Engine its presence proves the caller. Elsewhere (Cloud Run, a
bare gunicorn) anyone can send it: keep such a service private, or rely on the admin key (accounts).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, request

from server.accounts.auth import optional_principal, services, views
from server.accounts.editing import global_catalog
from server.api.spec import Reply, documented
from server.errors import Forbidden, json_response
from server.schemas.sync import SyncResponse
from server.settings import Settings

if TYPE_CHECKING:
    from server.sync.auth import Connection

log = logging.getLogger("server.sync")

bp = Blueprint("sync", __name__)

CRON_HEADER = "X-Appengine-Cron"
# gunicorn kills a worker after 60 s (app.yaml); later spreadsheets are reported as skipped past this budget.
BUDGET_S = 50.0
REQUEST_TIMEOUT_S = 20.0
CONNECT_EXTENSION = "sync_connect"  # tests put a connect function here that reaches a local stand-in


def _authorised() -> bool:
    """May this request start a sync? App Engine cron (its header, stripped by App Engine from outside traffic),
    or an admin key."""
    principal = optional_principal()
    return request.headers.get(CRON_HEADER) == "true" or (principal is not None and principal.is_admin)


def spreadsheet_keys(settings: Settings) -> list[str]:
    return [key.strip() for key in settings.SYNC_SPREADSHEETS.split(",") if key.strip()]


def _connect(credentials_file: Path | None) -> Connection:
    from server.sync.auth import connect

    factory: Callable[[Path | None], Connection] = current_app.extensions.get(CONNECT_EXTENSION, connect)
    return factory(credentials_file)


@bp.get("/v1/sync/catalog")
@documented(
    "App Engine cron (or an admin): write the global catalog into the spreadsheets of SYNC_SPREADSHEETS",
    replies={200: Reply("Every spreadsheet synced", SyncResponse), 502: Reply("A spreadsheet failed", SyncResponse)},
    errors=(403,),
)
def sync_catalog_cron() -> Response:
    if not _authorised():
        raise Forbidden(
            f"only App Engine cron (header {CRON_HEADER}: true) may start a catalog sync", reason="not_cron"
        )
    settings = services().settings
    keys = spreadsheet_keys(settings)
    if not keys:
        return json_response({"ok": True, "spreadsheets": [], "message": "SYNC_SPREADSHEETS is empty: nothing to do"})
    results = _sync_all(settings, keys)
    for result in results:
        level = logging.INFO if result["ok"] else logging.WARNING
        log.log(level, "catalog sync", extra={k: v for k, v in result.items() if k != "tabs"})
    ok = all(result["ok"] for result in results)
    return json_response({"ok": ok, "spreadsheets": results}, 200 if ok else 502)


def _sync_all(settings: Settings, keys: list[str]) -> list[dict[str, Any]]:
    """One result per spreadsheet, in order; a failure is reported and the next spreadsheet still runs."""
    from server.sync.entries import global_entries
    from server.sync.errors import SyncError
    from server.sync.job import sync_catalog
    from server.sync.retry import RetryPolicy

    started = time.monotonic()
    try:
        connection = _connect(settings.SYNC_CREDENTIALS_FILE)
    except SyncError as exc:
        return [{"spreadsheet_key": key, "ok": False, "error": exc.describe()} for key in keys]
    entries = global_entries(global_catalog(views()))  # the shipped catalog with the admins' edits
    results: list[dict[str, Any]] = []
    for key in keys:
        left = BUDGET_S - (time.monotonic() - started)
        if left < 1.0:
            results.append({"spreadsheet_key": key, "ok": False, "error": f"skipped: {BUDGET_S:g}s budget spent"})
            continue
        policy = RetryPolicy(deadline_s=left, timeout_s=min(REQUEST_TIMEOUT_S, left))
        try:
            report = sync_catalog(connection.client, key, entries, policy=policy)
        except SyncError as exc:
            results.append({"spreadsheet_key": key, "ok": False, "error": exc.describe(connection.account_email())})
        else:
            results.append({"ok": True, **report.to_dict()})
    return results
