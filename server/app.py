"""The Flask application factory."""

from __future__ import annotations

import logging
import time

from flask import Flask, request

from server.api import bigquery, catalog, impact, openapi, status
from server.catalog.store import load_catalog
from server.errors import NotAcceptable, register_error_handlers
from server.logs import configure_logging
from server.pipeline.run import Pipeline
from server.settings import load_settings

log = logging.getLogger("server.app")


def create_app(test_config: dict[str, object] | None = None) -> Flask:
    """Build the app from environment settings (`test_config` overrides them in tests)."""
    started = time.perf_counter()
    settings = load_settings(test_config)
    configure_logging(settings.LOG_LEVEL)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.MAX_CONTENT_LENGTH
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["settings"] = settings
    cat = load_catalog(settings.CATALOG_DIR)
    app.extensions["catalog"] = cat
    app.extensions["pipeline"] = Pipeline(cat)

    @app.before_request
    def _accepts_json() -> None:
        accept = request.accept_mimetypes
        if accept and not accept.accept_json and accept.best is not None:
            raise NotAcceptable()

    register_error_handlers(app)
    for blueprint in (status.bp, impact.bp, catalog.bp, bigquery.bp, openapi.bp):
        app.register_blueprint(blueprint)
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
