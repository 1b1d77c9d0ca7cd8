"""The catalog sync job: the real gspread client against a local Sheets API stand-in (tests/sheets_standin.py)."""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gspread
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from server.__main__ import main
from server.app import create_app
from server.catalog.store import Catalog
from server.settings import SettingsError
from server.sync.auth import SCOPES, connect
from server.sync.cli import add_arguments, run_cli
from server.sync.columns import DATACENTER_COLUMNS, GPU_COLUMNS, MODEL_COLUMNS, NODE_COLUMNS, TABS
from server.sync.entries import CatalogEntries, global_entries
from server.sync.errors import PermissionDenied, SpreadsheetNotFound, SyncError
from server.sync.job import sync_catalog
from server.sync.retry import Retrier, RetryPolicy
from tests.sheets_standin import SheetsStandin, running_standin

FAST = RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=0.05, deadline_s=5.0, timeout_s=2.0)
EMAIL = "sync-bot@estimates-prod.iam.gserviceaccount.com"
USER_TAB = [["model", "input_tokens", "gCO2e"], ["gpt-4o", 1200, 0.35], ["llama_31_8b", 300, 0.02]]


@pytest.fixture()
def standin() -> Iterator[SheetsStandin]:
    with running_standin() as running:
        yield running


@pytest.fixture()
def gc(standin: SheetsStandin) -> gspread.Client:
    return gspread.authorize(None, session=standin.session())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def entries(catalog: Catalog) -> CatalogEntries:
    return global_entries(catalog)


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture()
def key_file(tmp_path: Path, standin: SheetsStandin, private_key: rsa.RSAPrivateKey) -> Path:
    """A service-account key whose token endpoint is the stand-in's (the token fetch never reaches Google)."""
    standin.add_service_account(EMAIL, private_key.public_key())
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "estimates-prod",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": EMAIL,
        "client_id": "1234567890",
        "token_uri": f"{standin.url}/token",
    }
    path = tmp_path / "sync-bot-key.json"
    path.write_text(json.dumps(info))
    return path


def kinds(standin: SheetsStandin, since: int = 0) -> list[str]:
    return [r.kind for r in standin.log[since:]]


def sheet_ids(body: Any) -> set[int]:
    """Every sheetId a batchUpdate body refers to."""
    if isinstance(body, dict):
        found = {body["sheetId"]} if "sheetId" in body else set()
        return found.union(*(sheet_ids(v) for v in body.values()))
    if isinstance(body, list):
        return set().union(*(sheet_ids(v) for v in body))
    return set()


def column(standin: SheetsStandin, key: str, tab: str, name: str) -> list[Any]:
    rows = standin.tab(key, tab).values()
    index = rows[0].index(name)
    return [row[index] if index < len(row) else "" for row in rows[1:]]


# --- first and second sync ---------------------------------------------------------------------------------------


def test_first_sync_creates_the_three_tabs_with_every_catalog_row(
    standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries, catalog: Catalog
) -> None:
    standin.create("book", {"My usage": USER_TAB})
    users_tab_before = standin.snapshot("book")[0]

    report = sync_catalog(gc, "book", entries, policy=FAST)

    assert [s.title for s in standin.spreadsheets["book"].sheets] == [
        "My usage",
        "Models",
        "GPUs",
        "Nodes",
        "Datacenters",
    ]
    sizes = {
        "Models": len(catalog.models),
        "GPUs": len(catalog.gpus),
        "Nodes": len(catalog.nodes),
        "Datacenters": len(catalog.datacenters),
    }
    headers = {
        "Models": MODEL_COLUMNS,
        "GPUs": GPU_COLUMNS,
        "Nodes": NODE_COLUMNS,
        "Datacenters": DATACENTER_COLUMNS,
    }
    for title, size in sizes.items():
        tab = standin.tab("book", title)
        values = tab.values()
        assert values[0] == list(headers[title])
        assert len(values) - 1 == size
        assert (tab.rows, tab.columns) == (size + 1, len(headers[title]))  # the grid is the table: no stale rows
        assert tab.frozen_rows == 1
        assert all(tab.formats[(0, c)]["bold"] for c in range(tab.columns))
        assert not any(fmt.get("bold") for (r, _), fmt in tab.formats.items() if r > 0)
        assert tab.basic_filter == {
            "range": {
                "sheetId": tab.sheet_id,
                "startRowIndex": 0,
                "endRowIndex": size + 1,
                "startColumnIndex": 0,
                "endColumnIndex": len(headers[title]),
            }
        }
    assert column(standin, "book", "Models", "id") == list(catalog.models)
    assert column(standin, "book", "GPUs", "id") == list(catalog.gpus)
    assert column(standin, "book", "Nodes", "id") == list(catalog.nodes)
    assert column(standin, "book", "Datacenters", "id") == list(catalog.datacenters)
    assert standin.snapshot("book")[0] == users_tab_before
    assert report.spreadsheet_key == "book" and report.requests == 3
    assert [(t.title, t.rows, t.created, t.written, t.formatted) for t in report.tabs] == [
        (title, size, True, True, True) for title, size in sizes.items()
    ]
    # Three requests for the whole catalog: read the tabs, create + format them, write every value.
    assert kinds(standin) == ["metadata", "batch_update", "values_batch_update"]
    ours = {standin.tab("book", title).sheet_id for title in sizes}
    assert sheet_ids(standin.log[1].body) == ours and users_tab_before["sheet_id"] not in ours
    assert all(not d["range"].startswith("'My usage'") for d in standin.log[2].body["data"])


def test_cells_hold_numbers_booleans_and_joined_aliases(
    standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries, catalog: Catalog
) -> None:
    standin.create("book")
    sync_catalog(gc, "book", entries, policy=FAST)

    models = {row[0]: dict(zip(MODEL_COLUMNS, row, strict=False)) for row in standin.tab("book", "Models").values()}
    gpt4 = models["gpt-4"]
    row = catalog.models["gpt-4"].row
    assert gpt4["total_params_billions"] == 1760 and type(gpt4["total_params_billions"]) in (int, float)
    assert gpt4["active_params_billions"] == 352
    assert gpt4["params_estimated"] is True
    assert gpt4["aliases"] == "gpt-4-0613, gpt-4-0314, gpt-4-32k, gpt-4-32k-0613" == ", ".join(row.aliases)
    assert gpt4["estimated_requests_per_day"] == 10_000_000
    assert gpt4["customer_id"] == 0 and gpt4["created_by"] == "catalog"
    assert gpt4["created_at"] == "2026-11-01T00:00:00Z"
    assert gpt4["source"] == row.source
    node = dict(zip(NODE_COLUMNS, standin.tab("book", "Nodes").values()[1], strict=False))
    assert node["id"] == "aws-p4d-24xlarge" and node["gpu_count"] == 8 and node["average_utilization_rate"] == 0.5
    gpu = dict(zip(GPU_COLUMNS, standin.tab("book", "GPUs").values()[1], strict=False))
    assert gpu["id"] == "a100_40gb" and gpu["max_power_w"] == 400 and not isinstance(gpu["max_power_w"], str)
    # Written RAW: text is never parsed by Sheets (no formulas, dates or numbers made out of text).
    assert standin.log[-1].body["valueInputOption"] == "RAW"


def test_second_sync_leaves_identical_content_and_only_reads(
    standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries
) -> None:
    standin.create("book", {"My usage": USER_TAB})
    sync_catalog(gc, "book", entries, policy=FAST)
    before, mark = standin.snapshot("book"), len(standin.log)

    report = sync_catalog(gc, "book", entries, policy=FAST)

    assert standin.snapshot("book") == before
    assert kinds(standin, mark) == ["metadata", "values_batch_get"]
    assert report.requests == 2 <= len(TABS)
    assert not report.changed
    assert [(t.created, t.written, t.formatted) for t in report.tabs] == [(False, False, False)] * 4


def test_a_changed_catalog_rewrites_only_the_changed_tab_and_drops_stale_rows(
    standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries, catalog: Catalog
) -> None:
    standin.create("book")
    sync_catalog(gc, "book", entries, policy=FAST)
    standin.tab("book", "GPUs").cells[(1, 2)] = "edited by hand"
    fewer = CatalogEntries(
        models=entries.models[:-5], gpus=entries.gpus, nodes=entries.nodes, datacenters=entries.datacenters
    )
    mark = len(standin.log)

    report = sync_catalog(gc, "book", fewer, policy=FAST)

    assert kinds(standin, mark) == ["metadata", "values_batch_get", "batch_update", "values_batch_update"]
    assert [(t.title, t.written) for t in report.tabs] == [
        ("Models", True),
        ("GPUs", True),
        ("Nodes", False),
        ("Datacenters", False),
    ]
    models = standin.tab("book", "Models")
    assert column(standin, "book", "Models", "id") == list(catalog.models)[:-5]
    assert models.rows == len(catalog.models) - 5 + 1
    assert column(standin, "book", "GPUs", "max_power_w")[0] == catalog.gpus["a100_40gb"].row.max_power_w
    written = [d["range"] for d in standin.log[-1].body["data"]]
    assert written == ["'Models'!A1", "'GPUs'!A1"]


def test_a_lost_header_layout_is_restored_without_rewriting_values(
    standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries
) -> None:
    standin.create("book")
    sync_catalog(gc, "book", entries, policy=FAST)
    nodes = standin.tab("book", "Nodes")
    nodes.frozen_rows, nodes.basic_filter = 0, None
    mark = len(standin.log)

    report = sync_catalog(gc, "book", entries, policy=FAST)

    assert kinds(standin, mark) == ["metadata", "values_batch_get", "batch_update"]
    assert [(t.title, t.written, t.formatted) for t in report.tabs][2] == ("Nodes", False, True)
    assert nodes.frozen_rows == 1 and nodes.basic_filter is not None


def test_the_entries_decide_what_is_written(standin: SheetsStandin, gc: gspread.Client) -> None:
    """The seam for accounts: a run writes exactly the entries it is given, custom ones included."""
    custom = {
        "id": "acme-summariser",
        "aliases": ["acme-sum", "summariser"],
        "name": "Acme summariser",
        "family": "acme",
        "total_params_billions": 7.5,
        "task": "text-generation",
        "customer_id": 42,
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-20T10:00:00Z",
        "created_by": "user-7",
    }
    standin.create("book")

    sync_catalog(gc, "book", CatalogEntries(models=[custom]), policy=FAST)

    rows = standin.tab("book", "Models").values()
    assert rows[1][:4] == ["acme-summariser", "Acme summariser", "acme", "acme-sum, summariser"]
    assert len(rows) == 2 and dict(zip(MODEL_COLUMNS, rows[1], strict=False))["customer_id"] == 42
    assert standin.tab("book", "GPUs").values() == [list(GPU_COLUMNS)]
    with pytest.raises(SyncError, match="Models entry 0: expected a wire dict with an id"):
        sync_catalog(gc, "book", CatalogEntries(models=[{"name": "no id"}]), policy=FAST)


# --- quotas, errors ---------------------------------------------------------------------------------------------


def test_a_429_is_retried_after_a_back_off(standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries) -> None:
    standin.create("book")
    standin.fail(429)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    report = sync_catalog(gc, "book", entries, policy=FAST, sleep=sleep)

    assert kinds(standin) == ["metadata", "metadata", "batch_update", "values_batch_update"]
    assert report.requests == 4 and all(t.written for t in report.tabs)
    assert len(waits) == 1 and FAST.base_delay_s / 2 <= waits[0] <= FAST.base_delay_s


def test_a_retry_after_header_is_honoured(standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries) -> None:
    standin.create("book")
    sync_catalog(gc, "book", entries, policy=FAST)
    standin.fail(429, times=2, retry_after="0.04")
    waits: list[float] = []

    sync_catalog(gc, "book", entries, policy=FAST, sleep=waits.append)

    assert waits == [0.04, 0.04]


def test_back_off_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=10, base_delay_s=1.0, max_delay_s=32.0)
    low = Retrier(policy, "k", set_timeout=lambda _: None, jitter=lambda: 0.0)
    high = Retrier(policy, "k", set_timeout=lambda _: None, jitter=lambda: 1.0)
    assert [low.delay(n, None) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 16, 16]
    assert [high.delay(n, None) for n in range(1, 8)] == [1, 2, 4, 8, 16, 32, 32]
    assert high.delay(1, 120.0) == 32.0  # a Retry-After beyond the cap waits the cap


def test_a_persistent_503_fails_clearly_within_a_bounded_time(
    standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries
) -> None:
    standin.create("book")
    standin.fail(503, times=None)
    started = time.monotonic()

    with pytest.raises(SyncError) as failed:
        sync_catalog(gc, "book", entries, policy=FAST)

    assert time.monotonic() - started < 2.0
    assert len(standin.log) == FAST.attempts
    message = str(failed.value)
    assert message.startswith("reading the spreadsheet's tabs: the Sheets API kept failing (503 injected failure)")
    assert "gave up after 4 attempts" in message and failed.value.status == 503


def test_the_deadline_bounds_a_run_whatever_the_attempts(
    standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries
) -> None:
    standin.create("book")
    standin.fail(500, times=None)
    policy = RetryPolicy(attempts=1000, base_delay_s=0.05, max_delay_s=0.05, deadline_s=0.4, timeout_s=1.0)
    started = time.monotonic()

    with pytest.raises(SyncError, match=r"gave up after the sync's deadline of 0.4s"):
        sync_catalog(gc, "book", entries, policy=policy)

    assert time.monotonic() - started < 1.0
    assert 4 <= len(standin.log) <= 0.4 / 0.025 + 1  # each wait is at least half the 0.05 s delay


def test_a_wait_that_overruns_the_deadline_still_says_what_failed() -> None:
    """On a busy machine a 0.05 s back-off can end past the deadline: the error names the last failure then too."""
    now = [0.0]

    def oversleep(seconds: float) -> None:
        now[0] += seconds + 1.0

    def refused() -> None:
        raise requests.ConnectionError("connection refused")

    policy = RetryPolicy(attempts=10, base_delay_s=0.05, max_delay_s=0.05, deadline_s=0.4, timeout_s=1.0)
    retrier = Retrier(
        policy, "k", set_timeout=lambda _: None, sleep=oversleep, clock=lambda: now[0], jitter=lambda: 1.0
    )
    with pytest.raises(SyncError) as failed:
        retrier.call("reading the spreadsheet's tabs", refused)
    message = str(failed.value)
    assert message.startswith("reading the spreadsheet's tabs: the Sheets API kept failing (could not connect (")
    assert "gave up after the sync's deadline of 0.4s (1.1s)" in message and retrier.requests == 1


def test_a_slow_answer_times_out_and_is_retried(
    standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries
) -> None:
    standin.create("book")
    standin.delay(1.5)
    policy = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.01, deadline_s=5.0, timeout_s=0.3)
    started = time.monotonic()

    report = sync_catalog(gc, "book", entries, policy=policy)

    assert time.monotonic() - started < 1.2
    assert report.requests == 4 and kinds(standin)[:2] == ["metadata", "metadata"]
    assert gc.http_client.timeout is None  # the caller's client is left as it was


def test_missing_and_forbidden_spreadsheets_are_not_retried(
    standin: SheetsStandin, gc: gspread.Client, entries: CatalogEntries
) -> None:
    standin.create("locked")
    standin.forbid("locked")
    with pytest.raises(SpreadsheetNotFound, match="spreadsheet 'nope' not found"):
        sync_catalog(gc, "nope", entries, policy=FAST)
    with pytest.raises(PermissionDenied) as denied:
        sync_catalog(gc, "locked", entries, policy=FAST)
    assert denied.value.describe(EMAIL).endswith(f"share the spreadsheet with {EMAIL} as an Editor")
    assert len(standin.log) == 2


# --- command line ------------------------------------------------------------------------------------------------


def cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(["--attempts", "3", "--deadline", "5", "--timeout", "2", *argv])


def test_cli_syncs_with_a_service_account_key(
    standin: SheetsStandin, key_file: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    standin.create("book")
    standin.require_auth = True  # every Sheets request must carry a token the stand-in issued

    code = run_cli(cli_args("--spreadsheet", "book", "--credentials", str(key_file)), adapter=standin.adapter())

    out = capsys.readouterr().out
    assert code == 0, capsys.readouterr().err
    assert f"Models: {len(catalog.models)} rows x {len(MODEL_COLUMNS)} columns, created" in out
    assert len(standin.token_requests) == 1 and len(standin.log) == 3
    claims = json.loads(_jwt_part(standin.token_requests[0]["assertion"], 1))
    assert claims["iss"] == EMAIL and claims["scope"] == " ".join(SCOPES)


def _jwt_part(token: str, index: int) -> bytes:
    import base64

    part = token.split(".")[index]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_cli_names_a_missing_spreadsheet(
    standin: SheetsStandin, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://docs.google.com/spreadsheets/d/1NoSuchSheet_xyz/edit#gid=0"

    code = run_cli(cli_args("--spreadsheet", url, "--credentials", str(key_file)), adapter=standin.adapter())

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("sync-catalog: spreadsheet '1NoSuchSheet_xyz' not found")
    assert "between /d/ and /edit" in err and "Traceback" not in err and err.count("\n") == 1


def test_cli_permission_denied_names_the_service_account_to_share_with(
    standin: SheetsStandin, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    standin.create("locked")
    standin.forbid("locked")

    code = run_cli(cli_args("--spreadsheet", "locked", "--credentials", str(key_file)), adapter=standin.adapter())

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("sync-catalog: permission denied on spreadsheet 'locked'")
    assert f"share the spreadsheet with {EMAIL} as an Editor" in err and "Traceback" not in err


def test_cli_uses_application_default_credentials_without_a_key_file(
    standin: SheetsStandin, key_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    standin.create("book")
    standin.create("locked")
    standin.forbid("locked")
    standin.require_auth = True

    assert run_cli(cli_args("--spreadsheet", "book"), adapter=standin.adapter()) == 0
    assert run_cli(cli_args("--spreadsheet", "locked"), adapter=standin.adapter()) == 1
    assert f"share the spreadsheet with {EMAIL}" in capsys.readouterr().err
    assert [t.title for t in standin.spreadsheets["book"].sheets] == [
        "Sheet1",
        "Models",
        "GPUs",
        "Nodes",
        "Datacenters",
    ]


def test_cli_reports_unusable_credentials_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.json"
    assert main(["sync-catalog", "--spreadsheet", "book", "--credentials", str(missing)]) == 1
    assert capsys.readouterr().err == f"sync-catalog: credentials file {missing} not found\n"
    user = tmp_path / "user.json"
    user.write_text(json.dumps({"type": "authorized_user", "client_id": "x", "refresh_token": "y"}))
    assert main(["sync-catalog", "--spreadsheet", "book", "--credentials", str(user)]) == 1
    assert "is not a service-account key (type: authorized_user)" in capsys.readouterr().err


def test_sync_catalog_help_documents_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sync-catalog", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for text in (
        "usage: python -m server sync-catalog",
        "--spreadsheet KEY",
        "--credentials FILE",
        '"Models", "GPUs", "Nodes" and "Datacenters"',
        "service-account key (JSON)",
        "Application Default Credentials",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "https://www.googleapis.com/auth/spreadsheets",
        "shared with the service account's email",
        "example:\n  python -m server sync-catalog --spreadsheet ",
        "exit status: 0",
    ):
        assert text in out, text


# --- the cron endpoint ---------------------------------------------------------------------------------------------


def cron_app(standin: SheetsStandin, key_file: Path, spreadsheets: str) -> Flask:
    app = create_app(
        {"LOG_LEVEL": "WARNING", "SYNC_SPREADSHEETS": spreadsheets, "SYNC_CREDENTIALS_FILE": str(key_file)}
    )
    app.extensions["sync_connect"] = lambda credentials_file: connect(credentials_file, adapter=standin.adapter())
    return app


def test_the_cron_endpoint_refuses_requests_without_the_cron_header(standin: SheetsStandin, key_file: Path) -> None:
    standin.create("book")
    client = cron_app(standin, key_file, "book").test_client()
    for headers in ({}, {"X-Appengine-Cron": "false"}, {"X-Appengine-Cron": "1"}):
        refused = client.get("/v1/sync/catalog", headers=headers)
        assert refused.status_code == 403
        assert refused.get_json()["details"] == {"reason": "not_cron"}
    assert standin.log == []


def test_the_cron_endpoint_refreshes_every_configured_spreadsheet(
    standin: SheetsStandin, key_file: Path, catalog: Catalog
) -> None:
    standin.create("book-a")
    standin.create("book-b")
    client = cron_app(standin, key_file, "book-a, book-b").test_client()

    answer = client.get("/v1/sync/catalog", headers={"X-Appengine-Cron": "true"})

    assert answer.status_code == 200
    body = answer.get_json()
    assert body["ok"] is True
    assert [(s["spreadsheet_key"], s["ok"], s["requests"]) for s in body["spreadsheets"]] == [
        ("book-a", True, 3),
        ("book-b", True, 3),
    ]
    assert body["spreadsheets"][0]["tabs"][0] == {
        "title": "Models",
        "rows": len(catalog.models),
        "columns": len(MODEL_COLUMNS),
        "created": True,
        "written": True,
        "formatted": True,
    }
    for key in ("book-a", "book-b"):
        assert len(standin.tab(key, "Nodes").values()) == len(catalog.nodes) + 1


def test_one_failing_spreadsheet_does_not_stop_the_others(standin: SheetsStandin, key_file: Path) -> None:
    standin.create("locked")
    standin.forbid("locked")
    standin.create("book")
    client = cron_app(standin, key_file, "missing,locked,book").test_client()

    answer = client.get("/v1/sync/catalog", headers={"X-Appengine-Cron": "true"})

    assert answer.status_code == 502
    missing, locked, book = answer.get_json()["spreadsheets"]
    assert not missing["ok"] and "spreadsheet 'missing' not found" in missing["error"]
    assert not locked["ok"] and f"share the spreadsheet with {EMAIL} as an Editor" in locked["error"]
    assert book["ok"] and [t["created"] for t in book["tabs"]] == [True, True, True, True]


def test_sync_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="SYNC_SPREADSHEETS"):
        create_app({"LOG_LEVEL": "WARNING", "SYNC_SPREADSHEETS": "https://docs.google.com/x"})


def test_cron_yaml_calls_the_sync_endpoint(app: Flask) -> None:
    text = (Path(__file__).resolve().parents[1] / "cron.yaml").read_text()
    urls = re.findall(r"^\s+url: (\S+)$", text, re.M)
    assert urls == ["/v1/sync/catalog"]
    endpoint, _ = app.url_map.bind("localhost").match(urls[0], method="GET")
    assert endpoint == "sync.sync_catalog_cron"


def test_an_account_sync_lists_its_own_models_and_no_other_accounts(
    standin: SheetsStandin,
    key_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from server.accounts.keys import create_key
    from server.app import create_app
    from tests.conftest import authorized, settings_for_tests

    url = f"sqlite:///{tmp_path / 'accounts.sqlite3'}"
    app = create_app(settings_for_tests(url))
    for who in ("alice", "bob"):
        with app.extensions["services"].db.write() as session:
            key = create_key(session, who)
        saved = authorized(app.test_client(), key).post("/model", json={"id": f"{who}-llm", "total_params_billions": 3})
        assert saved.status_code == 201
    app.extensions["services"].db.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    standin.create("book")

    args = cli_args("--spreadsheet", "book", "--credentials", str(key_file), "--account", "alice")
    assert run_cli(args, adapter=standin.adapter()) == 0, capsys.readouterr().err
    ids = column(standin, "book", "Models", "id")
    assert "alice-llm" in ids and "bob-llm" not in ids and "gpt-4o" in ids

    args = cli_args("--spreadsheet", "book", "--credentials", str(key_file), "--account", "nobody")
    assert run_cli(args, adapter=standin.adapter()) == 1
    assert "no account named 'nobody'" in capsys.readouterr().err


def test_a_sync_writes_the_admins_edits_of_shipped_models(
    standin: SheetsStandin,
    key_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cron and CLI write the global view: the shipped catalog with what admins changed or deleted in it."""
    from tests.conftest import ADMIN_KEY, authorized, settings_for_tests

    url = f"sqlite:///{tmp_path / 'edits.sqlite3'}"
    app = create_app(settings_for_tests(url, SYNC_SPREADSHEETS="cron-book", SYNC_CREDENTIALS_FILE=str(key_file)))
    app.extensions["sync_connect"] = lambda credentials_file: connect(credentials_file, adapter=standin.adapter())
    admin = authorized(app.test_client(), ADMIN_KEY)
    assert admin.put("/model/gpt-4o", json={"name": "GPT-4o (edited)"}).status_code == 200
    assert admin.delete("/model/llama_31_8b").status_code == 204
    standin.create("cron-book")
    standin.create("cli-book")

    assert app.test_client().get("/v1/sync/catalog", headers={"X-Appengine-Cron": "true"}).status_code == 200
    app.extensions["services"].db.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    args = cli_args("--spreadsheet", "cli-book", "--credentials", str(key_file))
    assert run_cli(args, adapter=standin.adapter()) == 0, capsys.readouterr().err

    for book in ("cron-book", "cli-book"):
        names = dict(zip(column(standin, book, "Models", "id"), column(standin, book, "Models", "name"), strict=True))
        assert names["gpt-4o"] == "GPT-4o (edited)", book
        assert "llama_31_8b" not in names and "gpt-4o-mini" in names, book
