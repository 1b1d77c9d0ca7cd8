"""A local stand-in for the part of the Google Sheets v4 REST API the catalog sync uses, plus an OAuth token endpoint.

It is a real HTTP server on 127.0.0.1 keeping spreadsheets in memory. `StandinAdapter`, mounted on a
`requests.Session` for `https://sheets.googleapis.com/`, sends gspread's requests there unchanged but for the
scheme and host, so the real gspread client (URL building, quoting, JSON bodies, error mapping) is exercised.

What it speaks, with the real API's answers where the job could get them wrong:

- `GET /v4/spreadsheets/{id}`: properties and sheets (`properties`, `basicFilter`); zero counts omitted as Google does;
- `GET .../values/{range}`, `GET .../values:batchGet`: trailing empty cells and rows trimmed, `UNFORMATTED_VALUE`
  numbers as JSON numbers (a `FORMATTED_VALUE` read gets text);
- `PUT .../values/{range}`, `POST .../values:batchUpdate` (`RAW` only: anything else is refused), `"" ` clears a
  cell and `null` leaves it; writing beyond the grid is a 400 "exceeds grid limits";
- `POST .../values/{range}:clear`, `POST .../values:batchClear`;
- `POST /v4/spreadsheets/{id}:batchUpdate` with `addSheet`, `updateSheetProperties` (field mask), `repeatCell`,
  `setBasicFilter`, `updateCells`: validated (duplicate titles and ids, freezing every row, ranges off the grid);
  the whole batch applies or none of it;
- `POST /token`: the OAuth 2.0 JWT-bearer grant of a service account; the assertion's RS256 signature is checked
  against the public key registered with `add_service_account`, and issued tokens are required when
  `require_auth` is set.

Failures to inject: `fail(status, times=...)` (`times=None`: forever), `delay(seconds, times=...)`, `forbid(key)`;
an unknown spreadsheet answers 404. Every Sheets request is recorded in `log` (method, kind, path, query, body).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from requests.adapters import HTTPAdapter

SHEETS_PREFIX = "https://sheets.googleapis.com/"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # google-auth signs for it, whatever the token_uri


class ApiFailure(Exception):
    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason or {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED",
            503: "UNAVAILABLE",
        }.get(status, "INTERNAL")


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    rows: int = 1000
    columns: int = 26
    frozen_rows: int = 0
    sheet_type: str = "GRID"
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    formats: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    basic_filter: dict[str, Any] | None = None

    def properties(self) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.rows, "columnCount": self.columns}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": self.sheet_type,
            "gridProperties": grid,
        }

    def values(self) -> list[list[Any]]:
        """Rows as the API returns them: trailing empty cells and rows trimmed."""
        if not self.cells:
            return []
        height = max(r for r, _ in self.cells) + 1
        out: list[list[Any]] = []
        for r in range(height):
            width = max((c + 1 for rr, c in self.cells if rr == r), default=0)
            out.append([self.cells.get((r, c), "") for c in range(width)])
        return out


@dataclass
class Spreadsheet:
    key: str
    title: str
    sheets: list[Sheet]

    def find(self, title: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise ApiFailure(400, f"Unable to parse range: {title}")

    def by_id(self, sheet_id: int) -> Sheet:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise ApiFailure(400, f"Invalid requests: No grid with id: {sheet_id}")


@dataclass(frozen=True)
class Recorded:
    method: str
    kind: str  # metadata, values_get, values_batch_get, values_update, values_batch_update, values_clear, batch_update
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class Fault:
    status: int | None  # None: only a delay
    times: int | None  # None: forever
    delay_s: float = 0.0
    retry_after: str | None = None


def column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


CELL = re.compile(r"^([A-Za-z]*)(\d*)$")


def parse_a1(text: str) -> tuple[str, int, int, int | None, int | None]:
    """`'My tab'!B2:D9` → (title, first row, first column, end row, end column): 0-based, ends exclusive or None."""
    if "!" in text:
        title, cells = text.rsplit("!", 1)
    else:
        title, cells = text, ""
    if title.startswith("'") and title.endswith("'") and len(title) >= 2:
        title = title[1:-1].replace("''", "'")
    if not cells:
        return title, 0, 0, None, None
    start, _, end = cells.partition(":")
    first, second = CELL.match(start), CELL.match(end or start)
    if not first or not second:
        raise ApiFailure(400, f"Unable to parse range: {text}")
    r0 = int(first.group(2)) - 1 if first.group(2) else 0
    c0 = column_number(first.group(1)) - 1 if first.group(1) else 0
    r1 = int(second.group(2)) if second.group(2) else None
    c1 = column_number(second.group(1)) if second.group(1) else None
    return title, r0, c0, r1, c1


class SheetsStandin:
    def __init__(self) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.forbidden: set[str] = set()
        self.faults: list[Fault] = []
        self.log: list[Recorded] = []
        self.token_requests: list[dict[str, str]] = []
        self.public_keys: dict[str, rsa.RSAPublicKey] = {}
        self.issued_tokens: set[str] = set()
        self.require_auth = False
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

            def do_PUT(self) -> None:
                standin._handle(self, "PUT")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    # --- lifecycle and test helpers ----------------------------------------------------------------------------

    def start(self) -> SheetsStandin:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def adapter(self) -> StandinAdapter:
        return StandinAdapter(self.url)

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount(SHEETS_PREFIX, self.adapter())
        return session

    def create(self, key: str, tabs: dict[str, list[list[Any]]] | None = None) -> Spreadsheet:
        sheets = []
        for index, (title, rows) in enumerate((tabs or {"Sheet1": []}).items()):
            sheet = Sheet(sheet_id=index, title=title, index=index)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if value != "":
                        sheet.cells[(r, c)] = value
            sheets.append(sheet)
        self.spreadsheets[key] = Spreadsheet(key, f"spreadsheet {key}", sheets)
        return self.spreadsheets[key]

    def forbid(self, key: str) -> None:
        self.forbidden.add(key)

    def fail(self, status: int, *, times: int | None = 1, retry_after: str | None = None) -> None:
        self.faults.append(Fault(status, times, retry_after=retry_after))

    def delay(self, seconds: float, *, times: int | None = 1) -> None:
        self.faults.append(Fault(None, times, delay_s=seconds))

    def add_service_account(self, email: str, public_key: rsa.RSAPublicKey) -> None:
        self.public_keys[email] = public_key

    def snapshot(self, key: str) -> list[dict[str, Any]]:
        """Everything about every tab, for comparing two states."""
        return [copy.deepcopy(vars(sheet)) for sheet in self.spreadsheets[key].sheets]

    def tab(self, key: str, title: str) -> Sheet:
        return self.spreadsheets[key].find(title)

    def requests_since(self, mark: int) -> list[Recorded]:
        return self.log[mark:]

    # --- HTTP ----------------------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        query = parse_qs(url.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers: dict[str, str] = {}
        try:
            if url.path == "/token":
                status, body = 200, self._token(raw)
            else:
                kind = self._kind(method, url.path)
                body_json = json.loads(raw) if raw else None
                with self.lock:
                    self.log.append(Recorded(method, kind, url.path, query, body_json))
                    fault = self._take_fault()
                if fault is not None and fault.delay_s:
                    time.sleep(fault.delay_s)
                if fault is not None and fault.status is not None:
                    if fault.retry_after is not None:
                        headers["Retry-After"] = fault.retry_after
                    raise ApiFailure(fault.status, "injected failure")
                self._check_auth(handler.headers.get("Authorization"))
                with self.lock:
                    status, body = 200, self._sheets(method, kind, url.path, query, body_json)
        except ApiFailure as failure:
            status = failure.status
            body = {"error": {"code": failure.status, "message": failure.message, "status": failure.reason}}
        payload = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=UTF-8")
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and went away

    def _take_fault(self) -> Fault | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.pop(0)
        return fault

    def _check_auth(self, header: str | None) -> None:
        if not self.require_auth:
            return
        scheme, _, token = (header or "").partition(" ")
        if scheme != "Bearer" or token not in self.issued_tokens:
            raise ApiFailure(401, "Request is missing required authentication credential.")

    @staticmethod
    def _kind(method: str, path: str) -> str:
        rest = path.removeprefix("/v4/spreadsheets/")
        if rest == path:
            raise ApiFailure(404, f"no such API path: {path}")
        if method == "GET" and "/" not in rest and ":" not in rest:
            return "metadata"
        if method == "POST" and rest.endswith(":batchUpdate") and "/values" not in rest:
            return "batch_update"
        if rest.endswith("/values:batchGet") and method == "GET":
            return "values_batch_get"
        if rest.endswith("/values:batchUpdate") and method == "POST":
            return "values_batch_update"
        if rest.endswith("/values:batchClear") and method == "POST":
            return "values_batch_clear"
        if "/values/" in rest:
            if method == "GET":
                return "values_get"
            if method == "PUT":
                return "values_update"
            if method == "POST" and rest.endswith(":clear"):
                return "values_clear"
        raise ApiFailure(404, f"no such API method: {method} {path}")

    def _sheets(self, method: str, kind: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        rest = path.removeprefix("/v4/spreadsheets/")
        key = unquote(re.split(r"[/:]", rest, maxsplit=1)[0])
        if key in self.forbidden:
            raise ApiFailure(403, "The caller does not have permission")
        book = self.spreadsheets.get(key)
        if book is None:
            raise ApiFailure(404, "Requested entity was not found.")
        if kind == "metadata":
            return {
                "spreadsheetId": key,
                "properties": {"title": book.title},
                "sheets": [
                    {"properties": s.properties(), **({"basicFilter": s.basic_filter} if s.basic_filter else {})}
                    for s in book.sheets
                ],
            }
        if kind == "batch_update":
            return self._batch_update(book, body)
        render = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
        if kind == "values_batch_get":
            return {
                "spreadsheetId": key,
                "valueRanges": [self._read(book, a1, render) for a1 in query.get("ranges", [])],
            }
        range_text = unquote(rest.split("/values/", 1)[1]) if "/values/" in rest else ""
        if kind == "values_get":
            return self._read(book, range_text, render)
        if kind in ("values_update", "values_batch_update"):
            if kind == "values_update":
                option, data = (query.get("valueInputOption") or [None])[0], [{**body, "range": range_text}]
            else:
                option, data = body.get("valueInputOption"), body.get("data", [])
            if option != "RAW":
                raise ApiFailure(400, f"the stand-in takes valueInputOption RAW only, got {option!r}")
            original = copy.deepcopy(book.sheets)
            try:
                for item in data:
                    self._write(book, item["range"], item.get("values", []))
            except ApiFailure:
                book.sheets = original  # all ranges or none
                raise
            return {"spreadsheetId": key, "totalUpdatedSheets": len(data), "responses": [{} for _ in data]}
        if kind == "values_clear":
            self._clear(book, range_text.removesuffix(":clear"))
            return {"spreadsheetId": key, "clearedRange": range_text}
        if kind == "values_batch_clear":
            for a1 in body.get("ranges", []):
                self._clear(book, a1)
            return {"spreadsheetId": key, "clearedRanges": body.get("ranges", [])}
        raise ApiFailure(404, f"unsupported: {kind}")

    # --- values --------------------------------------------------------------------------------------------------

    @staticmethod
    def _cell_out(value: Any, render: str) -> Any:
        if render == "UNFORMATTED_VALUE" or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        return f"{value:g}" if isinstance(value, float) else str(value)

    def _read(self, book: Spreadsheet, a1: str, render: str) -> dict[str, Any]:
        title, r0, c0, r1, c1 = parse_a1(a1)
        sheet = book.find(title)
        rows = [row[c0:c1] for row in sheet.values()[r0:r1]]
        while rows and not rows[-1]:
            rows.pop()
        end_row = r1 if r1 is not None else sheet.rows
        end_col = c1 if c1 is not None else sheet.columns
        answer: dict[str, Any] = {
            "range": f"'{title}'!{column_letters(c0 + 1)}{r0 + 1}:{column_letters(end_col)}{end_row}",
            "majorDimension": "ROWS",
        }
        if rows:
            answer["values"] = [[self._cell_out(v, render) for v in row] for row in rows]
        return answer

    @staticmethod
    def _write(book: Spreadsheet, a1: str, rows: list[list[Any]]) -> None:
        title, r0, c0, _, _ = parse_a1(a1)
        sheet = book.find(title)
        height, width = r0 + len(rows), c0 + max((len(row) for row in rows), default=0)
        if height > sheet.rows or width > sheet.columns:
            raise ApiFailure(
                400,
                f"Range ({a1}) exceeds grid limits. Max rows: {sheet.rows}, max columns: {sheet.columns}",
            )
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if not isinstance(value, str | int | float | bool):
                    raise ApiFailure(400, f"Invalid values[{r}][{c}]: {value!r}")
                if value == "" and not isinstance(value, bool):
                    sheet.cells.pop((r0 + r, c0 + c), None)
                else:
                    sheet.cells[(r0 + r, c0 + c)] = value

    @staticmethod
    def _clear(book: Spreadsheet, a1: str) -> None:
        title, r0, c0, r1, c1 = parse_a1(a1)
        sheet = book.find(title)
        for r, c in list(sheet.cells):
            if r0 <= r < (r1 if r1 is not None else sheet.rows) and c0 <= c < (c1 if c1 is not None else sheet.columns):
                del sheet.cells[(r, c)]

    # --- spreadsheets:batchUpdate --------------------------------------------------------------------------------

    def _batch_update(self, book: Spreadsheet, body: Any) -> dict[str, Any]:
        requests_ = body.get("requests") if isinstance(body, dict) else None
        if not requests_:
            raise ApiFailure(400, "Must specify at least one request.")
        original = copy.deepcopy(book.sheets)
        replies: list[dict[str, Any]] = []
        try:
            for request in requests_:
                (name, args), *extra = request.items()
                if extra:
                    raise ApiFailure(400, "a request must set exactly one kind")
                handler = getattr(self, f"_req_{name}", None)
                if handler is None:
                    raise ApiFailure(400, f"Invalid JSON payload received. Unknown name {name!r}")
                replies.append(handler(book, args))
        except ApiFailure:
            book.sheets = original  # a batch applies entirely or not at all
            raise
        return {"spreadsheetId": book.key, "replies": replies}

    @staticmethod
    def _grid_range(sheet: Sheet, grid_range: dict[str, Any]) -> tuple[int, int, int, int]:
        r0, c0 = grid_range.get("startRowIndex", 0), grid_range.get("startColumnIndex", 0)
        r1, c1 = grid_range.get("endRowIndex", sheet.rows), grid_range.get("endColumnIndex", sheet.columns)
        if not (0 <= r0 <= r1 <= sheet.rows and 0 <= c0 <= c1 <= sheet.columns):
            raise ApiFailure(400, f"Invalid requests: range {grid_range} is outside the grid of {sheet.title!r}")
        return r0, c0, r1, c1

    def _req_addSheet(self, book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
        props = args.get("properties", {})
        title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
        if any(s.title == title for s in book.sheets):
            raise ApiFailure(400, f'Invalid requests[0].addSheet: A sheet with the name "{title}" already exists.')
        sheet_id = props.get("sheetId", max((s.sheet_id for s in book.sheets), default=0) + 1)
        if any(s.sheet_id == sheet_id for s in book.sheets):
            raise ApiFailure(400, f"Invalid requests[0].addSheet: Sheet with id {sheet_id} already exists.")
        grid = props.get("gridProperties", {})
        sheet = Sheet(
            sheet_id=sheet_id,
            title=title,
            index=props.get("index", len(book.sheets)),
            rows=grid.get("rowCount", 1000),
            columns=grid.get("columnCount", 26),
            frozen_rows=grid.get("frozenRowCount", 0),
        )
        if sheet.frozen_rows >= sheet.rows:
            raise ApiFailure(400, "Invalid requests: You can't freeze all visible rows on the sheet.")
        book.sheets.append(sheet)
        return {"addSheet": {"properties": sheet.properties()}}

    def _req_updateSheetProperties(self, book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
        props = args.get("properties", {})
        sheet = book.by_id(props.get("sheetId", 0))
        fields = [f.strip() for f in args.get("fields", "").split(",") if f.strip()]
        if not fields:
            raise ApiFailure(400, "Invalid requests: updateSheetProperties needs a field mask")
        grid = props.get("gridProperties", {})
        names = {
            "gridProperties.rowCount": "rowCount",
            "gridProperties.columnCount": "columnCount",
            "gridProperties.frozenRowCount": "frozenRowCount",
            "title": "title",
        }
        for mask in fields:
            if mask not in names:
                raise ApiFailure(400, f"the stand-in does not support the field mask {mask!r}")
            value = props.get("title") if mask == "title" else grid.get(names[mask], 0)
            if mask == "title":
                sheet.title = value
            elif mask.endswith("rowCount") and not mask.endswith("frozenRowCount"):
                sheet.rows = value
            elif mask.endswith("columnCount"):
                sheet.columns = value
            else:
                sheet.frozen_rows = value
        if sheet.rows < 1 or sheet.columns < 1:
            raise ApiFailure(400, "Invalid requests: a sheet needs at least one row and one column")
        if sheet.frozen_rows >= sheet.rows:
            raise ApiFailure(400, "Invalid requests: You can't freeze all visible rows on the sheet.")
        # Shrinking the grid deletes what lies beyond it.
        sheet.cells = {(r, c): v for (r, c), v in sheet.cells.items() if r < sheet.rows and c < sheet.columns}
        sheet.formats = {(r, c): v for (r, c), v in sheet.formats.items() if r < sheet.rows and c < sheet.columns}
        if sheet.basic_filter:  # like deleting rows or columns, a smaller grid shrinks the filter's range
            grid_range = sheet.basic_filter["range"]
            for end, size in (("endRowIndex", sheet.rows), ("endColumnIndex", sheet.columns)):
                if end in grid_range:
                    grid_range[end] = min(grid_range[end], size)
        return {}

    def _req_repeatCell(self, book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
        grid_range = args["range"]
        sheet = book.by_id(grid_range.get("sheetId", 0))
        r0, c0, r1, c1 = self._grid_range(sheet, grid_range)
        if args.get("fields") != "userEnteredFormat.textFormat.bold":
            raise ApiFailure(400, f"the stand-in supports the bold field mask only, got {args.get('fields')!r}")
        bold = args["cell"]["userEnteredFormat"]["textFormat"]["bold"]
        for r in range(r0, r1):
            for c in range(c0, c1):
                sheet.formats.setdefault((r, c), {})["bold"] = bold
        return {}

    def _req_setBasicFilter(self, book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
        grid_range = args["filter"]["range"]
        sheet = book.by_id(grid_range.get("sheetId", 0))
        self._grid_range(sheet, grid_range)
        sheet.basic_filter = {"range": dict(grid_range)}
        return {}

    def _req_updateCells(self, book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
        grid_range = args["range"]
        sheet = book.by_id(grid_range.get("sheetId", 0))
        r0, c0, _, _ = self._grid_range(sheet, grid_range)
        for r, row in enumerate(args.get("rows", [])):
            for c, cell in enumerate(row.get("values", [])):
                entered = cell.get("userEnteredValue", {})
                value = next(iter(entered.values()), "")
                self._write(book, f"'{sheet.title}'!{column_letters(c0 + c + 1)}{r0 + r + 1}", [[value]])
        return {}

    # --- OAuth ---------------------------------------------------------------------------------------------------

    def _token(self, raw: bytes) -> dict[str, Any]:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        self.token_requests.append(form)
        if form.get("grant_type") != JWT_GRANT:
            raise ApiFailure(400, "unsupported_grant_type")
        header_b64, payload_b64, signature_b64 = form["assertion"].split(".")
        claims = json.loads(_b64decode(payload_b64))
        key = self.public_keys.get(claims.get("iss", ""))
        if key is None:
            raise ApiFailure(400, "invalid_grant: unknown service account")
        try:
            key.verify(
                _b64decode(signature_b64),
                f"{header_b64}.{payload_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature as exc:
            raise ApiFailure(400, "invalid_grant: bad signature") from exc
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE or claims.get("exp", 0) < time.time():
            raise ApiFailure(400, "invalid_grant: bad audience or expired")
        token = "ya29.standin-" + secrets.token_hex(8)
        with self.lock:
            self.issued_tokens.add(token)
        return {"access_token": token, "expires_in": 3600, "token_type": "Bearer", "scope": claims.get("scope")}


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class StandinAdapter(HTTPAdapter):
    """Sends `https://sheets.googleapis.com/...` to the stand-in, path and query unchanged."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        assert request.url is not None and request.url.startswith(SHEETS_PREFIX), request.url
        request.url = self.base_url + "/" + request.url.removeprefix(SHEETS_PREFIX)
        return super().send(request, *args, **kwargs)


@contextmanager
def running_standin() -> Iterator[SheetsStandin]:
    standin = SheetsStandin().start()
    try:
        yield standin
    finally:
        standin.stop()
