"""The HTTP edge shared by every blueprint: JSON bodies in, JSON (or 304) out, one error
format, and domain errors mapped to statuses in one place (a Chalice middleware)."""
from __future__ import annotations

import functools
import hashlib
import json
import logging
from typing import Any, Callable

from chalice import Response
from chalice.app import Request

from .errors import DomainError, InvalidInput

logger = logging.getLogger("mission_control.http")

JSON_HEADERS = {"Content-Type": "application/json"}


def error_response(status: int, code: str, message: str, details: list | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return Response(body=json.dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def json_body(request: Request) -> Any:
    """The request body as JSON; ``InvalidInput`` (400) when it is missing or not JSON."""
    raw = request.raw_body
    if not raw:
        raise InvalidInput("the request needs a JSON body")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("the body is not valid JSON", [{"field": "(body)", "message": str(exc)}]) from None


def json_response(request: Request, body: Any, status: int = 200) -> Response:
    """JSON with an ETag; ``304 Not Modified`` when the client already holds this body, so a
    polling dashboard that sees no change costs a few bytes."""
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True)
    etag = '"' + hashlib.blake2b(payload.encode(), digest_size=12).hexdigest() + '"'
    headers = {**JSON_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}
    if status == 200 and etag in _etags(request.headers.get("if-none-match", "")):
        return Response(body="", status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    return Response(body=payload, status_code=status, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def api_errors(handler: Callable) -> Callable:
    """Route decorator: domain errors become their 4xx JSON; anything unexpected a generic
    500 JSON whose details stay in the log, never in the response. (Chalice turns a view's
    exception into its own 500 before any middleware sees it, so this wraps the view.)"""
    @functools.wraps(handler)
    def view(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except DomainError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.details)
        except Exception:  # noqa: BLE001 - the one place that turns surprises into a clean 500
            logger.exception("unhandled error in %s", handler.__name__)
            return error_response(500, "internal", "something went wrong on our side; it is logged")
    return view
