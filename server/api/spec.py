"""`@documented`: what a route takes and answers, in pydantic models, for `/openapi.json` (`openapi.py` reads it).

The decorator only records; the view still parses with the same models (so the document and the checks cannot
drift apart: they are the same classes), and the document is built from the app's URL map, so a route without
`@documented` fails the build and its test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

ATTRIBUTE = "openapi_operation"
View = TypeVar("View", bound=Callable[..., Any])

# What every answer of a kind may be besides its own replies (the app's before-request checks and handlers).
ERROR_TEXT = {
    400: "Invalid request (the Error names the field)",
    401: "Missing or invalid API key",
    403: "Not allowed for this key",
    404: "Not found",
    406: "Accept rules out JSON",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Rate limit exceeded",
    502: "An upstream service failed",
    503: "Not available on this server",
}


@dataclass(frozen=True, slots=True)
class Reply:
    """One documented answer: a JSON body of `model`, a raw schema per media type (`media`), or no body."""

    description: str
    model: type[BaseModel] | None = None
    media: Mapping[str, Mapping[str, Any]] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # header name: description (string values)


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    replies: Mapping[int, Reply]
    body: type[BaseModel] | None = None
    body_media: Mapping[str, Mapping[str, Any]] | None = None  # a body that is not one JSON model
    query: type[BaseModel] | None = None
    path: Mapping[str, str] = field(default_factory=dict)  # route variable: description
    examples: Mapping[str, str] = field(default_factory=dict)  # route variable: an example value
    errors: tuple[int, ...] = ()  # statuses answered with the `Error` object, beyond the common ones
    description: str | None = None


def documented(
    summary: str,
    *,
    replies: Mapping[int, type[BaseModel] | str | Reply],
    body: type[BaseModel] | None = None,
    body_media: Mapping[str, Mapping[str, Any]] | None = None,
    query: type[BaseModel] | None = None,
    path: Mapping[str, str] | None = None,
    examples: Mapping[str, str] | None = None,
    errors: tuple[int, ...] = (),
    description: str | None = None,
) -> Callable[[View], View]:
    """Record the operation on the view function. `replies`: status → model, description, or `Reply`."""
    operation = Operation(
        summary=summary,
        replies={status: _reply(summary, value) for status, value in replies.items()},
        body=body,
        body_media=body_media,
        query=query,
        path=dict(path or {}),
        examples=dict(examples or {}),
        errors=errors,
        description=description,
    )

    def record(view: View) -> View:
        setattr(view, ATTRIBUTE, operation)
        return view

    return record


def _reply(summary: str, value: type[BaseModel] | str | Reply) -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply(description=value)
    return Reply(description=summary, model=value)


def operation_of(view: Callable[..., Any]) -> Operation | None:
    found: Operation | None = getattr(view, ATTRIBUTE, None)
    return found
