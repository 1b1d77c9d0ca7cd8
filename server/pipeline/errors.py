"""Per-row failures: the row gets an `error` object, the other rows are still computed."""

from __future__ import annotations

from pydantic import ValidationError


class RowError(Exception):
    def __init__(self, code: str, message: str, field: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.reason = reason

    def to_wire(self) -> dict[str, object]:
        details: dict[str, str] = {}
        if self.reason:
            details["reason"] = self.reason
        if self.field:
            details["field"] = self.field
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if details:
            error["details"] = details
        return error


class InputError(Exception):
    """A request's input is unusable as a whole (not one row): what was sent, and the field at fault.

    Domain code (Sheets lines, batch uploads) raises it; `server.errors` answers it as a 400 `BAD_REQUEST`.
    """

    def __init__(self, message: str, *, field: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason


class InputTooLarge(InputError):
    """More input than the server takes (answered as 413)."""


def first_problem(exc: ValidationError, prefix: str = "") -> InputError:
    """The first problem, naming the field as a dotted path (`rows.3.input_tokens`).

    A field the caller sent (unknown, or of a wrong value) is named before one they left out: `{"row": []}`
    is "row: unknown field", not "rows: required". pydantic's own order of the two differs between releases.
    """
    errors = exc.errors(include_url=False)
    first = min(errors, key=lambda error: error["type"] == "missing")  # the first sent-field error, else errors[0]
    field = ".".join(str(p) for p in (*((prefix,) if prefix else ()), *first["loc"]))
    kind = first["type"]
    if kind == "extra_forbidden":
        message = f"{field}: unknown field"
    elif kind == "missing":
        message = f"{field}: required"
    else:
        message = f"{field}: {first['msg']}"
    return InputError(message, field=field or None, reason=kind)
