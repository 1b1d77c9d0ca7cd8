"""One error hierarchy, rendered as the spec's `Error` object in one place; the domain's `InputError` maps here."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Flask, Response, g, has_request_context
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from server.db.database import is_unavailable
from server.pipeline.errors import InputError, InputTooLarge, first_problem

log = logging.getLogger("server.errors")


class ApiError(Exception):
    status_code = 400
    code = "BAD_REQUEST"
    message = "bad request"

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.field = field
        self.reason = reason
        self.headers = headers or {}

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        details = {k: v for k, v in (("reason", self.reason), ("field", self.field)) if v}
        if details:
            body["details"] = details
        return body


class BadRequest(ApiError):
    status_code, code, message = 400, "BAD_REQUEST", "invalid request"


class Unauthorized(ApiError):
    status_code, code, message = 401, "UNAUTHORIZED", "missing or invalid API key"


class Forbidden(ApiError):
    status_code, code, message = 403, "FORBIDDEN", "not allowed"


class NotFound(ApiError):
    status_code, code, message = 404, "NOT_FOUND", "not found"


class MethodNotAllowed(ApiError):
    status_code, code, message = 405, "METHOD_NOT_ALLOWED", "method not allowed"


class NotAcceptable(ApiError):
    status_code, code, message = 406, "NOT_ACCEPTABLE", "this API answers application/json only"


class Conflict(ApiError):
    status_code, code, message = 409, "CONFLICT", "already exists"


class PayloadTooLarge(ApiError):
    status_code, code, message = 413, "PAYLOAD_TOO_LARGE", "request body too large"


class UnsupportedMediaType(ApiError):
    status_code, code, message = 415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json"


class TooManyRequests(ApiError):
    status_code, code, message = 429, "TOO_MANY_REQUESTS", "rate limit exceeded"


class ServiceUnavailable(ApiError):
    status_code, code, message = 503, "SERVICE_UNAVAILABLE", "not available on this server"


class InternalError(ApiError):
    status_code, code, message = 500, "INTERNAL_ERROR", "internal error"


# Seconds a client is told to wait after a 503 for a dependency briefly away: a PostgreSQL restart takes about a
# second, a Cloud SQL failover up to a minute; clients that retry (BigQuery, the Sheets functions) come back soon.
RETRY_AFTER_S = 3


def briefly_unavailable(what: str, reason: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"the {what} is briefly unavailable; retry in {RETRY_AFTER_S} s",
        reason=reason,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def from_validation_error(exc: ValidationError, prefix: str = "") -> BadRequest:
    """The first problem (`server.pipeline.errors.first_problem`) as a 400."""
    problem = first_problem(exc, prefix)
    return BadRequest(problem.message, field=problem.field, reason=problem.reason)


def bad_request(error: InputError) -> ApiError:
    """A domain's unusable input as its HTTP error: 413 when there is too much of it, else 400."""
    kind = PayloadTooLarge if isinstance(error, InputTooLarge) else BadRequest
    return kind(error.message, field=error.field, reason=error.reason)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers, mimetype="application/json")


def error_response(error: ApiError) -> Response:
    if "Retry-After" in error.headers and has_request_context():
        g.error_retry_after = error.headers["Retry-After"]  # kept over the rate limiter's (register_error_handlers)
    return json_response(error.to_wire(), error.status_code, error.headers)


HTTP_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    406: NotAcceptable,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    429: TooManyRequests,
}


def register_error_handlers(app: Flask) -> None:
    """Call before `init_limits`: the rate limiter sets Retry-After on every response it counts (the end of the
    key's window, up to 60 s); an error that gives its own Retry-After (a 503's shorter advice) has it put back."""

    @app.after_request
    def _error_retry_after(response: Response) -> Response:
        wanted = g.get("error_retry_after")
        if wanted is not None:
            response.headers["Retry-After"] = wanted
        return response

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(InputError)
    def _input_error(error: InputError) -> Response:
        return error_response(bad_request(error))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        mapped = HTTP_ERRORS.get(status)
        if mapped is None:
            return error_response(InternalError())
        if status == 404:
            return error_response(NotFound("no such endpoint"))
        return error_response(mapped())

    @app.errorhandler(SQLAlchemyError)
    def _database_error(error: SQLAlchemyError) -> Response:
        if is_unavailable(error):
            log.warning("database unavailable: %s", type(getattr(error, "orig", error)).__name__)
            return error_response(briefly_unavailable("database", "database_unavailable"))
        log.exception("unhandled database error")
        return error_response(InternalError())

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def _redis_error(error: Exception) -> Response:
        log.warning("redis unavailable: %s", type(error).__name__)
        return error_response(briefly_unavailable("job queue (Redis)", "redis_unavailable"))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(InternalError())
