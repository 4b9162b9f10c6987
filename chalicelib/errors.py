"""Domain errors. Features raise these; the HTTP layer (web.py) maps each to one status."""
from __future__ import annotations

import re
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


class Forbidden(DomainError):
    """The caller's role may use the route but not make this particular change."""

    status, code = 403, "forbidden"


class PreconditionFailed(DomainError):
    """An ``If-Match`` that is no longer the resource's ETag: someone changed it first."""

    status, code = 412, "precondition_failed"


class PreconditionRequired(DomainError):
    """A write to a versioned resource without ``If-Match``."""

    status, code = 428, "precondition_required"


class Busy(DomainError):
    """Contention that a retry resolves; the client should retry after a moment."""

    status, code = 503, "busy"


#: pydantic's messages that do not read as this API's, by error type
_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "is not a field here; check its spelling",
    "string_unicode": "must be Unicode text: it holds an unpaired UTF-16 surrogate (U+D800–U+DFFF)",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "list_type": "must be a JSON array",
}
_PREFIXES = ("Value error, ", "Assertion failed, ")
_PYDANTIC_SUBJECT = re.compile(r"^(?:Input|String|Dictionary|List|Value) should")
_UNREADABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def pydantic_details(exc: Any, whole: str = "(body)") -> list[dict[str, Any]]:
    """pydantic's ValidationError as ``[{"field": "a.b", "message": ...}]`` for clients, in the
    API's words: field paths as the client wrote them (a key that is refused is named by its
    path, ``properties.<key>``, with "key" in the message), no "Value error, " prefixes.
    ``whole``: the field named when the whole object is refused ("(event)")."""
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [str(p) for p in err["loc"]]
        message = _MESSAGES.get(err["type"], err["msg"])
        for prefix in _PREFIXES:
            message = message.removeprefix(prefix)
        message = _PYDANTIC_SUBJECT.sub("must", message)
        if loc and loc[-1] == "[key]":
            loc, message = loc[:-1], f"the key {message}"
        field = ".".join(_UNREADABLE.sub("\ufffd", p) for p in loc) or whole
        details.append({"field": field, "message": message})
    return details
