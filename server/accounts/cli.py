"""Command-line key management: `create-key`, `list-keys`, `revoke-key`, `migrate`, and the first-start key."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server.accounts.keys import (
    BOOTSTRAP_ADMIN_ACCOUNT,
    KeyCommandError,
    create_key,
    has_accounts,
    list_keys,
    revoke_key,
)
from server.accounts.scopes import ESTIMATE, FULL, SCOPES
from server.db.database import Database
from server.settings import load_settings


def _database() -> Database:
    """The database the server uses (`DATABASE_URL`), migrated to the current schema."""
    db = Database(load_settings().DATABASE_URL)
    db.migrate()
    return db


def _create_key(args: argparse.Namespace) -> int:
    db = _database()
    try:
        with db.write() as session:
            key = create_key(session, args.name, admin=args.admin, scope=args.scope)
    except KeyCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    kind = "admin key" if args.admin else ("estimate-only key" if args.scope == ESTIMATE else "key")
    print(f"new {kind} for account {args.name!r}; it is shown once, store it now:", file=sys.stderr)
    print(key)
    return 0


def _list_keys(_args: argparse.Namespace) -> int:
    with _database().read() as session:
        keys = list_keys(session)
    if not keys:
        print("no keys yet: `python -m server create-key NAME [--admin | --scope estimate]` makes one")
        return 0
    print(
        f"{'key starts':<14} {'account':<24} {'admin':<6} {'scope':<9} {'created (UTC)':<17} "
        f"{'last used (UTC)':<17} {'requests':>9}  revoked"
    )
    for k in keys:
        revoked = k.revoked_at.strftime("%Y-%m-%d %H:%M") if k.revoked_at else "-"
        used = k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never"
        admin = "yes" if k.is_admin else "no"
        print(
            f"{k.prefix + '…':<14} {k.account:<24} {admin:<6} {k.scope:<9} {k.created_at:%Y-%m-%d %H:%M}  "
            f"{used:<17} {k.request_count:>9}  {revoked}"
        )
    print(
        f"(a running server adds its requests here every {load_settings().KEY_USAGE_FLUSH_SECONDS:g} s, "
        "KEY_USAGE_FLUSH_SECONDS, and as a worker stops)"
    )
    return 0


def _revoke_key(args: argparse.Namespace) -> int:
    try:
        with _database().write() as session:
            count = revoke_key(session, args.key)
    except KeyCommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if count == 0:
        print(f"error: no key matches {args.key!r} (see `python -m server list-keys`)", file=sys.stderr)
        return 1
    print("revoked: requests with this key now get 401")
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    db = _database()
    print(f"database at revision {db.revision()} ({db.url!r})")
    return 0


def first_start_key() -> str | None:
    """On an empty database (no account yet) and no `ADMIN_API_KEY`: a new admin key, to print once."""
    settings = load_settings()
    if settings.ADMIN_API_KEY:
        return None
    db = _database()
    with db.write() as session:
        if has_accounts(session):
            return None
        return create_key(session, BOOTSTRAP_ADMIN_ACCOUNT, admin=True)


def add_commands(commands: Any) -> None:
    """Add the key and database commands to `python -m server`'s sub-command parser."""
    create = commands.add_parser(
        "create-key",
        help="create an API key (printed once, as the last line)",
        description="Create an API key for account NAME (made if new). The key is printed once, as the last "
        "line of output; only its digest is stored.",
    )
    create.add_argument("name", metavar="NAME", help="account name, e.g. a team or a person")
    create.add_argument("--admin", action="store_true", help="an admin key: manages the global catalog")
    create.add_argument(
        "--scope",
        choices=SCOPES,
        default=FULL,
        help="full (default): whatever the account may do; estimate: estimates and catalog reads only, the key "
        "to put in a shared spreadsheet (403 on every write, batch, file, sync and admin endpoint)",
    )
    create.set_defaults(run=_create_key)
    listing = commands.add_parser(
        "list-keys", help="list keys (their first characters only): account, scope, last use, requests"
    )
    listing.set_defaults(run=_list_keys)
    revoke = commands.add_parser("revoke-key", help="revoke a key: its requests get 401 from then on")
    revoke.add_argument("key", metavar="KEY", help="the whole key, or the first characters list-keys shows")
    revoke.set_defaults(run=_revoke_key)
    migrate = commands.add_parser("migrate", help="bring the database schema up to date (the server also does)")
    migrate.set_defaults(run=_migrate)
