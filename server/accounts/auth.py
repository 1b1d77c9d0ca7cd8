"""Every request but `/status`, `/livez`, `/readyz` and `/openapi.json` carries an API key (`Bearer <key>`).

BigQuery cannot send headers, so `POST /` may carry the key in `userDefinedContext.api_key` instead. The key
is looked up by its digest (never logged, never stored); the caller and its catalog view go on `flask.g`. A key's
scope is enforced here, for every endpoint at once (`scopes.py`), and its use counted in memory (`usage.py`).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask, current_app, g, request

from server.accounts import scopes
from server.accounts.keys import Principal
from server.accounts.views import CatalogViews, View
from server.errors import Forbidden, Unauthorized
from server.services import Services

PUBLIC_ENDPOINTS = frozenset({"status.status", "health.livez", "health.readyz", "openapi.openapi", "static"})
BIGQUERY_ENDPOINT = "bigquery.bigquery"
# App Engine cron sends no key (it proves itself by a header); a key, when sent, must be valid.
KEY_OPTIONAL_ENDPOINTS = frozenset({"sync.sync_catalog_cron"})


def _bearer_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _bigquery_key() -> str | None:
    """`userDefinedContext.api_key` of a BigQuery remote-function call; the parsed body stays on `g.json_body`
    for the endpoint, so a 1000-call body is parsed once."""
    try:
        body: Any = orjson.loads(request.get_data(cache=True))
    except orjson.JSONDecodeError:
        return None
    g.json_body = body
    context = body.get("userDefinedContext") if isinstance(body, dict) else None
    key = context.get("api_key") if isinstance(context, dict) else None
    return key if isinstance(key, str) and key else None


def current_principal() -> Principal:
    found: Principal = g.principal
    return found


def optional_principal() -> Principal | None:
    """The caller on an endpoint where a key is optional (None: no key was sent)."""
    found: Principal | None = getattr(g, "principal", None)
    return found


def current_view() -> View:
    found: View = g.view
    return found


# The app's `server.services.Services`, under this name in `app.extensions`.
SERVICES = "services"


def services() -> Services:
    found: Services = current_app.extensions[SERVICES]
    return found


def views() -> CatalogViews:
    return services().views


def _authenticate() -> None:
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    key = _bearer_key()
    if key is None and request.endpoint == BIGQUERY_ENDPOINT:
        key = _bigquery_key()
    if key is None and request.endpoint in KEY_OPTIONAL_ENDPOINTS:
        return
    if key is None:
        raise Unauthorized(
            "missing API key: send 'Authorization: Bearer <key>' (create one with `python -m server create-key`)",
            reason="missing_api_key",
        )
    caller = views().caller(key=key)
    if caller is None:
        raise Unauthorized("invalid or revoked API key", reason="invalid_api_key")
    principal = caller.principal
    services().usage.record(principal.key_hash)
    if not scopes.allows(principal.scope, request.endpoint, request.method):
        raise Forbidden(
            f"this is an {principal.scope!r} key: it may estimate and read the catalog, not "
            f"{request.method} {request.path} (use a full key of the account)",
            reason="key_scope",
        )
    g.principal = principal
    g.view = caller.view


def init_auth(app: Flask) -> None:
    app.before_request(_authenticate)
