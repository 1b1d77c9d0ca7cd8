"""Catalog sync: the catalog entries a caller may see → gspread → tabs "Models", "GPUs", "Nodes" and "Datacenters".

    from server.sync import connect, global_entries, sync_catalog

    connection = connect(Path("key.json"))  # or connect() for Application Default Credentials
    report = sync_catalog(connection.client, "SPREADSHEET_KEY", global_entries(catalog))

Names are imported on first use, so `python -m server` does not load gspread and google-auth for other commands.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.sync.auth import Connection, connect
    from server.sync.entries import CatalogEntries, global_entries
    from server.sync.errors import CredentialsError, PermissionDenied, SpreadsheetNotFound, SyncError
    from server.sync.job import SyncReport, TabReport, sync_catalog
    from server.sync.retry import RetryPolicy

_HOMES = {
    "Connection": "auth",
    "connect": "auth",
    "CatalogEntries": "entries",
    "global_entries": "entries",
    "CredentialsError": "errors",
    "PermissionDenied": "errors",
    "SpreadsheetNotFound": "errors",
    "SyncError": "errors",
    "SyncReport": "job",
    "TabReport": "job",
    "sync_catalog": "job",
    "RetryPolicy": "retry",
}
__all__ = [
    "CatalogEntries",
    "Connection",
    "CredentialsError",
    "PermissionDenied",
    "RetryPolicy",
    "SpreadsheetNotFound",
    "SyncError",
    "SyncReport",
    "TabReport",
    "connect",
    "global_entries",
    "sync_catalog",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
