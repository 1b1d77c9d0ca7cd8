"""Errors of a sync run, each with a message a person can act on."""

from __future__ import annotations


class SyncError(Exception):
    """A sync run failed; the message names what failed (the step, the spreadsheet, the API's answer)."""

    def __init__(self, message: str, *, spreadsheet_key: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.spreadsheet_key = spreadsheet_key
        self.status = status

    def describe(self, account_email: str | None = None) -> str:
        """The message, completed with the account the job runs as where that helps."""
        return self.message


class SpreadsheetNotFound(SyncError):
    """404 on the spreadsheet: a wrong key, or a deleted spreadsheet."""


class PermissionDenied(SyncError):
    """403 on the spreadsheet: it is not shared with the account the job runs as (or the API is disabled)."""

    def describe(self, account_email: str | None = None) -> str:
        who = account_email or "the service account this job runs as"
        return f"{self.message}; share the spreadsheet with {who} as an Editor"


class CredentialsError(SyncError):
    """No usable Google credentials (a missing or malformed key file, no Application Default Credentials)."""
