"""`python -m server sync-catalog`: write the catalog into a spreadsheet's Models, GPUs, Nodes and Datacenters tabs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from requests.adapters import BaseAdapter

    from server.catalog.store import Catalog
    from server.settings import Settings

DESCRIPTION = """\
Write the model catalog into the tabs "Models", "GPUs", "Nodes" and "Datacenters" of a Google spreadsheet: one row
per entry, header row bold and frozen, a filter over each table, numbers as numbers. Missing tabs are created; the
job owns those four tabs (edits there are overwritten) and leaves every other tab alone. A run with an unchanged catalog
only reads (2 requests). Rate limits (HTTP 429) and server errors (5xx) are retried with bounded exponential
back-off; then the command fails with a message naming what failed.

Credentials: --credentials FILE is a service-account key (JSON). Without it, Application Default Credentials are
used: the service account of App Engine or Cloud Run, the key file named by GOOGLE_APPLICATION_CREDENTIALS, or
`gcloud auth application-default login`. The only scope asked for is
https://www.googleapis.com/auth/spreadsheets, so the spreadsheet must be shared with the service account's email
(the `client_email` of the key file) as an Editor; a permission error names that email.
"""

EPILOG = """\
example:
  python -m server sync-catalog --spreadsheet 1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms \\
      --credentials sync-bot-key.json

  (the key is the part of the spreadsheet's URL between /d/ and /edit; the whole URL works too)

exit status: 0 when the tabs are up to date, 1 when the sync failed (the message says why), 2 for bad arguments.
"""


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--spreadsheet", required=True, metavar="KEY", help="the spreadsheet's key (or its URL) to write into"
    )
    parser.add_argument(
        "--credentials",
        type=Path,
        metavar="FILE",
        help="a service-account key file (JSON); default: Application Default Credentials",
    )
    parser.add_argument(
        "--account",
        metavar="NAME",
        help="write what this account sees (the global catalog plus its own models, GPUs and nodes, from "
        "DATABASE_URL); default: the global catalog (the shipped one with the admins' edits from DATABASE_URL)",
    )
    parser.add_argument("--timeout", type=_positive, default=30.0, metavar="S", help="per request (default 30)")
    parser.add_argument("--attempts", type=int, default=6, metavar="N", help="tries per request (default 6)")
    parser.add_argument(
        "--deadline",
        type=_positive,
        default=120.0,
        metavar="S",
        help="whole run, retries included (default 120)",
    )
    parser.set_defaults(run=run_cli)


def spreadsheet_key(text: str) -> str:
    """A key, or the key inside a spreadsheet URL."""
    if "/" not in text:
        return text.strip()
    from gspread.utils import extract_id_from_url

    return extract_id_from_url(text)


def viewed_catalog(settings: Settings, account: str | None) -> Catalog:
    """What the sync writes: the global view (shipped entries with the admins' edits, from the database), or
    with `account`, what that account sees (the global view and its own saved entries)."""
    from server.accounts.editing import global_catalog
    from server.services import build_services

    services = build_services(settings, with_queue=False)
    try:
        if account is None:
            return global_catalog(services.views)
        caller = services.views.caller(account=account)
        if caller is None:
            raise ValueError(f"no account named {account!r} (see `python -m server list-keys`)")
        return caller.view.catalog
    finally:
        services.db.dispose()


def run_cli(args: argparse.Namespace, *, adapter: BaseAdapter | None = None) -> int:
    """Run one sync; print a summary (stdout) or the error (stderr, no traceback). `adapter`: see `auth.connect`."""
    from gspread.exceptions import NoValidUrlKeyFound

    from server.catalog.files import CatalogError
    from server.settings import SettingsError, load_settings
    from server.sync.auth import connect
    from server.sync.entries import global_entries
    from server.sync.errors import SyncError
    from server.sync.job import sync_catalog
    from server.sync.retry import RetryPolicy

    connection = None
    try:
        key = spreadsheet_key(args.spreadsheet)
        policy = RetryPolicy(attempts=args.attempts, deadline_s=args.deadline, timeout_s=args.timeout)
        settings = load_settings()
        catalog = viewed_catalog(settings, args.account)
        connection = connect(args.credentials, adapter=adapter)
        report = sync_catalog(connection.client, key, global_entries(catalog), policy=policy)
    except SyncError as exc:
        email = connection.account_email() if connection else None
        print(f"sync-catalog: {exc.describe(email)}", file=sys.stderr)
        return 1
    except (NoValidUrlKeyFound, ValueError, CatalogError, SettingsError) as exc:
        print(f"sync-catalog: {str(exc) or 'no spreadsheet key in ' + args.spreadsheet}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0
