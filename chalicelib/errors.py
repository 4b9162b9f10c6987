"""Domain errors. Features raise these; the HTTP layer (web.py) maps each to one status."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidInput(DomainError):
    status, code = 400, "invalid_input"


class PayloadTooLarge(DomainError):
    status, code = 413, "too_large"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Busy(DomainError):
    """Contention that a retry resolves; the client should retry after a moment."""

    status, code = 503, "busy"


def pydantic_details(exc: Any, prefix: tuple = ()) -> list[dict[str, Any]]:
    """pydantic's ValidationError as ``[{"field": "a.b", "message": ...}]`` for clients."""
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in (*prefix, *err["loc"])) or "(body)"
        details.append({"field": loc, "message": err["msg"]})
    return details
