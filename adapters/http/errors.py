"""Maps errors to HTTP answers with a message; none of these paths has appended anything."""

from __future__ import annotations

import re

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from adapters.blobs.port import BlobUnavailable
from adapters.blobs.uploads import UploadRefused
from adapters.throttle import Throttled
from domain.errors import DomainError, IllegalTransition, InvalidCommand
from projections.cursor import InvalidCursor
from workflows.errors import (
    AccessDenied,
    CaseNotFound,
    ConcurrentModification,
    IdempotencyKeyReused,
    QueryCodeNotFound,
)
from workflows.tokens import Unauthenticated


class Problem(BaseModel):
    field: str
    reason: str


class ErrorBody(BaseModel):
    """Every refusal: a code, a sentence, and what the code needs (see docs/api.md)."""

    error: str
    message: str
    problems: list[Problem] | None = None  # invalid_request: each field and why
    state: str | None = None  # illegal_transition: the case's state now …
    allowed_actions: list[str] | None = None  # … and what it allows
    retry: bool | None = None  # concurrent_modification: re-read and retry
    request_id: str | None = None  # internal_error: quote it to the operators


_WHY = {
    400: "The body is not JSON (syntax, UTF-8, too deep, a number too long); nothing appended",
    401: "No token, an unknown or a revoked one",
    403: "The role may not, or the case is outside the caller's reach; nothing appended",
    404: "No such case (or query code)",
    409: "Illegal in the case's state, or changed concurrently (retry); nothing appended",
    422: "Invalid request: the field and the reason; nothing appended",
    413: "The request body is over the size limit; nothing appended",
    429: "Too many query-code attempts; see Retry-After",
    503: "The event store (or, for attachments, the blob store) is not answering; retry "
         "after Retry-After seconds",
    500: "An internal error: the body and X-Request-ID name the request id to quote",
}
STORE_RETRY_AFTER = 5  # seconds a client should wait when the store is not answering

_HTTP_ERRORS = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed",
                413: "body_too_large"}


def responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI entries for the refusals a router can answer with."""
    return {code: {"model": ErrorBody, "description": _WHY[code]} for code in codes}


def describe(code: int) -> str:
    return _WHY[code]


def _json(status: int, error: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


def _validation(errors: list[dict[str, object]]) -> JSONResponse:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "reason": e["msg"]}  # type: ignore[union-attr]
        for e in errors
    ]
    first = problems[0] if problems else {"field": "", "reason": "invalid"}
    return _json(422, "invalid_request", f"{first['field']}: {first['reason']}", problems=problems)


def _methods_at(request: Request) -> list[str]:
    """Every documented method at this path (the framework names only one route's)."""
    path = request.url.path
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


def _unparsable(errors: list[dict[str, object]]) -> bool:
    return any(e.get("type") == "json_invalid" for e in errors)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = list(error.errors())
        if _unparsable(errors):
            return _json(400, "malformed_body", "the body is not valid JSON")
        return _validation(errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        """The framework's own refusals (unparsable body, unknown route, wrong method)."""
        message = ("the body is not valid JSON (syntax, UTF-8, nesting or number size)"
                   if error.status_code == 400 else str(error.detail))
        response = _json(error.status_code, _HTTP_ERRORS.get(error.status_code, "http_error"),
                         message)
        response.headers.update(error.headers or {})
        if error.status_code == 405:
            response.headers["Allow"] = ", ".join(_methods_at(request))
        return response

    @app.exception_handler(ValidationError)
    async def _model(_: Request, error: ValidationError) -> JSONResponse:
        return _validation(list(error.errors()))  # type: ignore[arg-type]

    @app.exception_handler(InvalidCursor)
    async def _cursor(_: Request, error: InvalidCursor) -> JSONResponse:
        return _json(422, "invalid_request", f"cursor: {error}",
                     problems=[{"field": "cursor", "reason": str(error)}])

    @app.exception_handler(Throttled)
    async def _throttled(_: Request, error: Throttled) -> JSONResponse:
        response = _json(429, "too_many_attempts", str(error))
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.exception_handler(Unauthenticated)
    async def _unauthenticated(_: Request, error: Unauthenticated) -> JSONResponse:
        response = _json(401, "unauthenticated", str(error))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(AccessDenied)
    async def _denied(_: Request, error: AccessDenied) -> JSONResponse:
        return _json(403, "forbidden", str(error))

    @app.exception_handler(CaseNotFound)
    async def _missing(_: Request, error: CaseNotFound) -> JSONResponse:
        return _json(404, "not_found", str(error))

    @app.exception_handler(QueryCodeNotFound)
    async def _no_code(_: Request, error: QueryCodeNotFound) -> JSONResponse:
        return _json(404, "not_found", str(error))

    @app.exception_handler(IllegalTransition)
    async def _illegal(_: Request, error: IllegalTransition) -> JSONResponse:
        return _json(409, "illegal_transition", str(error), state=error.state,
                     allowed_actions=list(error.allowed))

    @app.exception_handler(ConcurrentModification)
    async def _conflict(_: Request, error: ConcurrentModification) -> JSONResponse:
        return _json(409, "concurrent_modification", str(error), retry=True)

    @app.exception_handler(IdempotencyKeyReused)
    async def _reused(_: Request, error: IdempotencyKeyReused) -> JSONResponse:
        return _json(422, "idempotency_key_reused", str(error))

    @app.exception_handler(InvalidCommand)
    async def _invalid(_: Request, error: InvalidCommand) -> JSONResponse:
        return _json(422, "rule_violated", str(error))

    async def _store_unavailable(_: Request, error: Exception) -> JSONResponse:
        """The store is away or busy: fail fast, say when to come back, no traceback."""
        response = _json(503, "store_unavailable",
                         "the event store is not answering; retry later", retry=True)
        response.headers["Retry-After"] = str(STORE_RETRY_AFTER)
        return response

    @app.exception_handler(UploadRefused)
    async def _upload(_: Request, error: UploadRefused) -> JSONResponse:
        return _json(422, "invalid_request", f"file: {error}",
                     problems=[{"field": "file", "reason": str(error)}])

    @app.exception_handler(BlobUnavailable)
    async def _blobs_unavailable(_: Request, error: BlobUnavailable) -> JSONResponse:
        """The attachments' store (folder or bucket) is away: only attachments wait."""
        response = _json(503, "blob_store_unavailable",
                         "the attachments' store is not answering; retry later", retry=True)
        response.headers["Retry-After"] = str(STORE_RETRY_AFTER)
        return response

    app.add_exception_handler(OperationalError, _store_unavailable)
    app.add_exception_handler(InterfaceError, _store_unavailable)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, error: DomainError) -> JSONResponse:
        return _json(422, "rule_violated", str(error))
