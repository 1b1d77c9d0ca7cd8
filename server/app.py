"""The Flask application factory."""

from __future__ import annotations

import gc
import logging
import time

from flask import Flask, Response, g, request

from server.accounts.auth import SERVICES, init_auth
from server.accounts.limits import init_limits
from server.api import batch, openapi
from server.errors import NotAcceptable, register_error_handlers
from server.logs import configure_logging
from server.services import build_services
from server.settings import load_settings

log = logging.getLogger("server.app")


def create_app(test_config: dict[str, object] | None = None) -> Flask:
    """Build the app from environment settings (`test_config` overrides them in tests)."""
    started = time.perf_counter()
    settings = load_settings(test_config)
    configure_logging(settings.LOG_LEVEL)
    app = Flask(__name__, static_folder=None)  # no static files: every route is an API route, documented
    app.config["MAX_CONTENT_LENGTH"] = settings.MAX_CONTENT_LENGTH
    app.json.sort_keys = False  # type: ignore[attr-defined]
    services = build_services(settings)
    app.extensions[SERVICES] = services
    cat = services.views.shipped

    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _server_timing(response: Response) -> Response:
        # The app's own time for the request (auth, estimate, body), for callers and bench/ to read.
        if "request_started" in g:
            elapsed_ms = (time.perf_counter() - g.request_started) * 1000.0
            response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
        return response

    @app.after_request
    def _versions(response: Response) -> Response:
        # Which engine and catalog made this answer, so that a cached answer can be told from a current one
        # (apps_script/Client.gs keys its cache by Scope3-Catalog-Version).
        response.headers["Scope3-Methodology-Version"] = services.views.shipped.methodology_version
        view = g.get("view")
        if view is not None:
            response.headers["Scope3-Catalog-Version"] = view.catalog_version
        return response

    @app.before_request
    def _accepts_json() -> None:
        accept = request.accept_mimetypes
        if request.endpoint in batch.RAW_OUTPUT_ENDPOINTS:
            return
        if accept and not accept.accept_json and accept.best is not None:
            raise NotAcceptable()

    register_error_handlers(app)
    init_auth(app)
    app.extensions["limiter"] = init_limits(app, settings)
    for blueprint in openapi.blueprints():  # the same list the OpenAPI document is built from
        app.register_blueprint(blueprint)
    # The catalog, its indexes and the libraries live as long as the process: move them out of the garbage
    # collector's sight, so its full passes scan only what requests allocate (bench/throughput.py: p95 latency
    # of a 1000-row request 83 ms -> 25 ms).
    gc.freeze()
    log.info(
        "app ready",
        extra={
            "models": len(cat.models),
            "gpus": len(cat.gpus),
            "nodes": len(cat.nodes),
            "startup_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return app
