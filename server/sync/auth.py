"""Google credentials for the sync job, and a gspread client using them.

Either a service-account key file (JSON, as the Cloud console downloads it), or Application Default Credentials
(`google.auth.default`): on App Engine and Cloud Run the service account the service runs as; elsewhere the file
named by `GOOGLE_APPLICATION_CREDENTIALS` or `gcloud auth application-default login`. The only scope asked for is
`spreadsheets`: the job reads and writes spreadsheets shared with that account, and nothing in Drive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google.auth
import gspread
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from requests.adapters import BaseAdapter

from server.sync.errors import CredentialsError

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
SHEETS_API_PREFIX = "https://sheets.googleapis.com/"


@dataclass(frozen=True, slots=True)
class Connection:
    client: gspread.Client
    credentials: Credentials

    def account_email(self) -> str | None:
        """The service account to share spreadsheets with (for ADC on Google Cloud, known after the first call)."""
        email = getattr(self.credentials, "service_account_email", None)
        return email if isinstance(email, str) and "@" in email else None


def load_credentials(credentials_file: Path | None) -> Credentials:
    if credentials_file is None:
        try:
            credentials, _project = google.auth.default(scopes=list(SCOPES))
        except auth_exceptions.DefaultCredentialsError as exc:
            raise CredentialsError(
                "no Google credentials: pass --credentials FILE (a service-account key, JSON) or run where "
                f"Application Default Credentials exist (App Engine, Cloud Run, GOOGLE_APPLICATION_CREDENTIALS): {exc}"
            ) from exc
        found: Credentials = credentials
        return found
    try:
        info: Any = json.loads(credentials_file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CredentialsError(f"credentials file {credentials_file} not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialsError(f"credentials file {credentials_file} is not a JSON key file: {exc}") from exc
    kind = info.get("type") if isinstance(info, dict) else None
    if kind != "service_account":
        raise CredentialsError(
            f"credentials file {credentials_file} is not a service-account key (type: {kind}); create a key for a "
            "service account in the Cloud console (IAM > Service accounts > Keys), or leave out --credentials to "
            "use Application Default Credentials"
        )
    try:
        key_credentials: Credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=list(SCOPES)
        )
    except (ValueError, KeyError) as exc:
        raise CredentialsError(f"credentials file {credentials_file}: {exc}") from exc
    return key_credentials


def connect(credentials_file: Path | None = None, *, adapter: BaseAdapter | None = None) -> Connection:
    """A gspread client authorised with those credentials.

    `adapter`, when given, carries the Sheets API requests (tests mount one that talks to a local stand-in); the
    OAuth token request still goes to the credentials' own `token_uri`.
    """
    credentials = load_credentials(credentials_file)
    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    if adapter is not None:
        session.mount(SHEETS_API_PREFIX, adapter)
    return Connection(gspread.Client(auth=None, session=session), credentials)  # type: ignore[arg-type]
