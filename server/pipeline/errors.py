"""Per-row failures: the row gets an `error` object, the other rows are still computed."""

from __future__ import annotations


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
