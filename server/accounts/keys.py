"""API keys: made here, shown once, stored only as a SHA-256 digest.

A key is 32 random bytes (`secrets.token_urlsafe`), so a plain digest is enough to keep it safe at rest
(no dictionary to attack); the digest is what the database indexes and compares.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from server.accounts.scopes import ESTIMATE, FULL, SCOPES
from server.db.tables import Account, ApiKey

KEY_PREFIX = "s3ai_"
BOOTSTRAP_ADMIN_ACCOUNT = "admin"  # the account `ADMIN_API_KEY` and the first start's key belong to
SHOWN_PREFIX_CHARS = 12  # "s3ai_" and 7 random characters: enough to tell keys apart in `list-keys`


class KeyCommandError(Exception):
    """A key command cannot be done; the message says why."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the account behind a valid key."""

    account_id: int
    account_name: str
    is_admin: bool
    key_hash: str
    scope: str = FULL  # what the key may do (server/accounts/scopes.py); an account acting without a key: full


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


def create_key(
    session: Session, account_name: str, *, admin: bool = False, key: str | None = None, scope: str = FULL
) -> str:
    """A new key for `account_name` (the account is made if new) with this scope. Returns the key: the only time
    it exists."""
    if scope not in SCOPES:
        raise KeyCommandError(f"unknown scope {scope!r}: one of {', '.join(SCOPES)}")
    if admin and scope != FULL:
        raise KeyCommandError(f"an admin key manages the catalog, so it cannot have the {scope!r} scope")
    account = session.scalars(select(Account).where(Account.name == account_name)).first()
    if account is None:
        account = Account(name=account_name, is_admin=admin, created_at=now())
        session.add(account)
        session.flush()
    elif admin and not account.is_admin:
        raise KeyCommandError(f"account {account_name!r} exists and is not an admin; use another name for an admin key")
    elif scope == ESTIMATE and account.is_admin:
        raise KeyCommandError(
            f"account {account_name!r} is an admin account, whose keys see every account's entries; "
            "make the estimate key for another account"
        )
    key = key or new_key()
    session.add(
        ApiKey(
            account_id=account.id,
            key_hash=key_hash(key),
            prefix=key[:SHOWN_PREFIX_CHARS],
            created_at=now(),
            scope=scope,
        )
    )
    return key


def ensure_key(session: Session, account_name: str, key: str, *, admin: bool) -> bool:
    """Make sure `key` works for that account (the `ADMIN_API_KEY` bootstrap). True when it was added."""
    existing = session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash(key))).first()
    if existing is not None:
        return False
    create_key(session, account_name, admin=admin, key=key)
    return True


def has_accounts(session: Session) -> bool:
    return session.scalars(select(Account.id).limit(1)).first() is not None


def authenticate(connection: Connection | Session, key: str) -> Principal | None:
    """The caller behind `key`, or None for an unknown or revoked key."""
    digest = key_hash(key)
    found = connection.execute(_KEY_QUERY, {"digest": digest}).first()
    # The lookup is by digest; compare the digests in constant time all the same.
    if found is None or found.revoked_at is not None or not hmac.compare_digest(found.key_hash, digest):
        return None
    return Principal(
        account_id=found.id, account_name=found.name, is_admin=found.is_admin, key_hash=digest, scope=found.scope
    )


_KEY_QUERY = (
    select(ApiKey.key_hash, ApiKey.revoked_at, ApiKey.scope, Account.id, Account.name, Account.is_admin)
    .join(Account, Account.id == ApiKey.account_id)
    .where(ApiKey.key_hash == bindparam("digest"))
)


def principal_for_account(connection: Connection | Session, account: int | str) -> Principal | None:
    """The account (its id, or its name) acting without a key: a batch task's owner, or a command run by whoever
    holds the database."""
    query = select(Account.id, Account.name, Account.is_admin)
    query = query.where(Account.id == account) if isinstance(account, int) else query.where(Account.name == account)
    found = connection.execute(query).first()
    if found is None:
        return None
    return Principal(account_id=found.id, account_name=found.name, is_admin=found.is_admin, key_hash="")


@dataclass(frozen=True, slots=True)
class KeyListing:
    prefix: str
    account: str
    is_admin: bool
    created_at: datetime
    revoked_at: datetime | None
    scope: str
    last_used_at: datetime | None
    request_count: int


def list_keys(session: Session) -> list[KeyListing]:
    rows = session.execute(
        select(
            ApiKey.prefix,
            Account.name,
            Account.is_admin,
            ApiKey.created_at,
            ApiKey.revoked_at,
            ApiKey.scope,
            ApiKey.last_used_at,
            ApiKey.request_count,
        )
        .join(Account, Account.id == ApiKey.account_id)
        .order_by(ApiKey.id)
    ).all()
    return [KeyListing(*row) for row in rows]


def revoke_key(session: Session, key_or_prefix: str) -> int:
    """Revoke a key given whole or by the prefix `list-keys` shows. Returns how many keys were revoked."""
    if key_or_prefix.startswith(KEY_PREFIX) and len(key_or_prefix) > SHOWN_PREFIX_CHARS:
        matches = list(session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash(key_or_prefix))))
    else:
        matches = list(session.scalars(select(ApiKey).where(ApiKey.prefix == key_or_prefix)))
    if len(matches) > 1:
        raise KeyCommandError(f"{len(matches)} keys start with {key_or_prefix!r}; give the whole key")
    for found in matches:
        if found.revoked_at is None:
            found.revoked_at = now()
    return len(matches)
