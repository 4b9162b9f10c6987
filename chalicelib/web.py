"""The HTTP edge shared by every blueprint: JSON bodies in, JSON (or 304) out, one error
format, and domain errors mapped to statuses in one place (a Chalice middleware)."""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import logging
import os
from typing import Any, Callable

from chalice import Response
from chalice.app import Request

from . import bounded_json
from .errors import DomainError, InvalidInput, PayloadTooLarge
from .aws_access import API_HANDLER, uses

logger = logging.getLogger("mission_control.http")

JSON_HEADERS = {"Content-Type": "application/json"}


def error_response(status: int, code: str, message: str, details: list | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return Response(body=json.dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def json_body(request: Request) -> Any:
    """The request body as JSON, parsed within ``bounded_json``'s limits: ``InvalidInput``
    (400) when it is missing, not JSON or nested too deep, ``PayloadTooLarge`` (413) when it
    is over ``bounded_json.MAX_BODY_BYTES``."""
    raw = request.raw_body
    if not raw:
        raise InvalidInput("the request needs a JSON body")
    try:
        return bounded_json.parse(raw)
    except bounded_json.JsonRefused as refused:
        error = PayloadTooLarge if refused.too_large else InvalidInput
        raise error(f"the body {refused.reason}", [{"field": "(body)", "message": refused.reason}]) from None


def json_response(request: Request, body: Any, status: int = 200) -> Response:
    """JSON with an ETag; ``304 Not Modified`` when the client already holds this body, so a
    polling dashboard that sees no change costs a few bytes."""
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True)
    etag = _etag_of_payload(payload)
    headers = {**JSON_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}
    if status == 200 and etag in _etags(request.headers.get("if-none-match", "")):
        return Response(body="", status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    return Response(body=payload, status_code=status, headers=headers)


def etag_of(body: Any) -> str:
    """The ETag ``json_response`` gives ``body`` (live notices name it, so a client holding
    it skips the refetch)."""
    return _etag_of_payload(json.dumps(body, separators=(",", ":"), sort_keys=True))


def _etag_of_payload(payload: str) -> str:
    return '"' + hashlib.blake2b(payload.encode(), digest_size=12).hexdigest() + '"'


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


# -- the edge: CORS and security headers on every response ------------------------------------
#: request headers a browser may send cross-origin (preflight)
CORS_REQUEST_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, X-Api-Key"
#: response headers a cross-origin script may read
CORS_EXPOSED_HEADERS = "ETag, Retry-After, WWW-Authenticate"
#: how long a browser may cache a preflight answer (seconds)
CORS_MAX_AGE_S = 600
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=63072000; includeSubDomains"


def http_edge(app: Any, edge_settings: Callable[[], Any]) -> Callable:
    """Middleware: answers CORS preflights for the configured SPA origins, puts every error in
    the one shape (``in_error_shape``: Chalice's own 405/415/500 included) and puts CORS and
    security headers on every answer, the access check's 401/403 included. Register it before
    (outside) every other middleware. ``edge_settings()`` gives ``cors_origins``, ``stage``
    and ``issuer`` (an ``AuthSettings``)."""
    def edge(request: Request, get_response: Callable) -> Response:
        config = edge_settings()
        if request.method == "OPTIONS":
            response = _preflight(app, request, _allowed_origin(request.headers.get("origin"), config))
        else:
            try:
                response = get_response(request)
            except Exception:  # noqa: BLE001 - the outermost net: still our shape, still our headers
                logger.exception("unhandled error answering %s %s", request.method, request.path)
                response = error_response(500, "internal", "something went wrong on our side; it is logged")
            route = app.routes.get(request.path, {})
            response = in_error_shape(response, request.method, request.path, route,
                                      request.headers.get("content-type"))
        return with_edge_headers(response, request.headers.get("origin"), config)
    return edge


def with_edge_headers(response: Response, origin: str | None, config: Any) -> Response:
    """``response`` with CORS (for an allowed ``origin``) and the security headers: what every
    answer carries, whoever made it. ``config``: ``cors_origins``, ``stage``, ``issuer``."""
    allowed = _allowed_origin(origin, config)
    headers = response.headers
    if allowed:
        headers["Access-Control-Allow-Origin"] = allowed
        headers.setdefault("Access-Control-Expose-Headers", CORS_EXPOSED_HEADERS)
    headers["Vary"] = ", ".join(v for v in (headers.get("Vary"), "Origin") if v)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Referrer-Policy", "no-referrer")
    if response.status_code != 304 and not _header(headers, "content-security-policy"):
        # (Not on 304: its headers would replace the cached page's own policy.)
        content_type = _header(headers, "content-type") or ""
        headers["Content-Security-Policy"] = (
            html_content_security_policy(_text(response.body), connect=_connect_origins(config.issuer))
            if content_type.startswith("text/html") else API_CONTENT_SECURITY_POLICY)
    if config.stage == "prod":
        headers["Strict-Transport-Security"] = HSTS
    return response


def _allowed_origin(origin: str | None, config: Any) -> str | None:
    return origin if origin and origin in config.cors_origins else None


# -- one error shape, whoever answers ----------------------------------------------------------
#: paths where every answer of status >= 400 is ``{"error": {"code", "message", "details"}}``
API_PREFIXES = ("/api/", "/webhooks/")
#: our code for a status, when an answer under API_PREFIXES came without one
STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "too_large",
                415: "unsupported_media_type", 422: "invalid_input", 429: "rate_limited",
                500: "internal", 502: "bad_gateway", 503: "unavailable", 504: "timeout"}
INTERNAL_MESSAGE = "something went wrong on our side; it is logged"


def in_error_shape(response: Response, method: str, path: str, route: dict | None = None,
                   content_type: str | None = None) -> Response:
    """``response`` with its error in the one shape. Chalice answers some requests itself, in
    its own shape (``{"Code": ..., "Message": ...}``): a method the path does not take (405,
    with ``Allow``), a Content-Type the route does not take (415), an exception in a view
    without ``api_errors`` (500); those are rewritten everywhere. Under ``API_PREFIXES`` any
    other error body not in the shape is replaced too (never echoed: it could hold anything).
    ``route``: the path's routes by method (``app.routes[path]``), for what it accepts."""
    if response.status_code < 400 or _is_error_shape(response.body):
        return response
    body = response.body
    chalice_code = body.get("Code") if isinstance(body, dict) and "Message" in body else None
    if chalice_code is None and not path.startswith(API_PREFIXES):
        return response
    status = response.status_code
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    if status == 405:
        allowed = sorted(m for m in (route or {}) if m != "OPTIONS")
        return error_response(405, "method_not_allowed", _method_message(method, path, allowed),
                              [{"field": "method", "allowed": allowed}],
                              {**headers, "Allow": ", ".join([*allowed, "OPTIONS"]) if allowed else "OPTIONS"})
    if status == 415:
        accepted = list((route or {}).get(method).content_types) if (route or {}).get(method) else ["application/json"]
        message = f"send Content-Type: {accepted[0]}" + (
            " (or none: a GET takes no body)" if method in ("GET", "HEAD") else "")
        return error_response(415, "unsupported_media_type", message,
                              [{"field": "Content-Type", "accepted": accepted}], headers)
    if status >= 500:
        return error_response(status, STATUS_CODES.get(status, "internal"), INTERNAL_MESSAGE, None, headers)
    message = str(body.get("Message")) if chalice_code else f"the request was refused (HTTP {status})"
    return error_response(status, STATUS_CODES.get(status, "bad_request"), message, None, headers)


def unrouted_error_response(status: int, method: str, path: str, request_headers: Any, config: Any,
                            allowed_methods: tuple[str, ...] = ()) -> Response:
    """The answer for a request no route takes, for a server in front of the app (the local
    runner's): 404 for a path no route has, 405 (with ``Allow``) for a method the path does
    not take; in the one shape, with CORS and security headers (``with_edge_headers``), never
    repeating the request's headers. ``config``: ``auth_settings()``."""
    if status == 405:
        response = error_response(405, "method_not_allowed", _method_message(method, path, list(allowed_methods)),
                                  [{"field": "method", "allowed": sorted(allowed_methods)}],
                                  {"Allow": ", ".join(sorted(set(allowed_methods) | {"OPTIONS"}))})
    else:
        response = error_response(status, STATUS_CODES.get(status, "not_found"),
                                  "no such route; see README.md for the API's routes")
    return with_edge_headers(response, request_headers.get("origin"), config)


def _method_message(method: str, path: str, allowed: list[str]) -> str:
    return f"{path} does not take {method}" + (f"; it takes {', '.join(allowed)}" if allowed else "")


def _is_error_shape(body: Any) -> bool:
    if isinstance(body, (str, bytes)):
        if not body.lstrip().startswith(b"{" if isinstance(body, bytes) else "{"):
            return False
        try:
            body = json.loads(body)
        except ValueError:
            return False
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and {"code", "message", "details"} <= set(error)


def _preflight(app: Any, request: Request, allowed_origin: str | None) -> Response:
    route = app.routes.get(request.context.get("resourcePath"), {})
    path_methods = sorted(m for m in route if m != "OPTIONS")
    wanted = request.headers.get("access-control-request-method")
    if wanted is None:  # a plain OPTIONS, not a preflight
        return Response(body="", status_code=204, headers={"Allow": ", ".join([*path_methods, "OPTIONS"])})
    if allowed_origin is None or wanted not in path_methods:
        return error_response(403, "cors_refused", "this origin or method is not allowed here")
    return Response(body="", status_code=204, headers={
        "Access-Control-Allow-Methods": ", ".join(path_methods),
        "Access-Control-Allow-Headers": CORS_REQUEST_HEADERS,
        "Access-Control-Max-Age": str(CORS_MAX_AGE_S)})


def add_preflight_routes(app: Any) -> None:
    """Give every path an OPTIONS route, so that API Gateway and ``chalice local`` pass CORS
    preflights to ``http_edge`` (which answers them before any view). Call after every
    blueprint is registered."""
    def preflight(**_path_parameters: str) -> Response:  # http_edge answers before this runs
        return Response(body="", status_code=204)

    for path in list(app.routes):
        if "OPTIONS" not in app.routes[path]:
            app.route(path, methods=["OPTIONS"], name="preflight")(preflight)


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body if isinstance(body, str) else ""


def _connect_origins(issuer: str | None) -> tuple[str, ...]:
    """Where the SPA's scripts may connect besides this origin: the API (when elsewhere), the
    token issuer (its token endpoint) and the WebSocket API of live updates."""
    from .live.settings import live_settings
    origins = (_origin_of(os.environ.get("SPA_API_BASE_URL", "")), _origin_of(issuer or ""),
               _origin_of(live_settings().websocket_url))
    return tuple(dict.fromkeys(o for o in origins if o))


@functools.lru_cache(maxsize=32)
def html_content_security_policy(html: str, form_action: tuple[str, ...] = (),
                                 connect: tuple[str, ...] = ()) -> str:
    """A strict policy for one HTML page: scripts and styles only from this origin, plus the
    page's own inline ``<script>``/``<style>`` blocks and ``style`` attributes by their SHA-256
    (so the SPA's no-flash theme script runs, and nothing injected does); no framing, no
    plugins, no base-URI tricks; forms post only to this origin (and ``form_action``); fetches
    go to this origin (and ``connect``)."""
    scripts, styles, style_attributes = _inline_code(html)
    style_src = ["'self'", *styles]
    if style_attributes:
        style_src += ["'unsafe-hashes'", *style_attributes]
    connect_src = ["'self'", *connect]
    return "; ".join([
        "default-src 'none'",
        "script-src " + " ".join(["'self'", *scripts]),
        "style-src " + " ".join(style_src),
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src " + " ".join(connect_src),
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action " + " ".join(["'self'", *form_action]),
        "frame-ancestors 'none'",
        "object-src 'none'",
    ])


def _origin_of(url: str) -> str | None:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc else None


def _inline_code(html: str) -> tuple[list[str], list[str], list[str]]:
    """CSP hash sources of the inline scripts, style blocks and style attributes of ``html``."""
    from html.parser import HTMLParser

    def source(text: str) -> str:
        digest = hashlib.sha256(text.encode()).digest()
        return "'sha256-" + base64.b64encode(digest).decode() + "'"

    found: dict[str, list[str]] = {"script": [], "style": [], "attr": []}

    class Collector(HTMLParser):
        open_tag: str | None = None
        buffer: list[str] = []

        def handle_starttag(self, tag, attrs):
            attributes = dict(attrs)
            if attributes.get("style"):
                found["attr"].append(source(attributes["style"]))
            if tag in ("script", "style") and not attributes.get("src"):
                self.open_tag, self.buffer = tag, []

        def handle_data(self, data):
            if self.open_tag:
                self.buffer.append(data)

        def handle_endtag(self, tag):
            if tag == self.open_tag:
                found[tag].append(source("".join(self.buffer)))
                self.open_tag = None

    Collector(convert_charrefs=False).feed(html)
    return (list(dict.fromkeys(found["script"])), list(dict.fromkeys(found["style"])),
            list(dict.fromkeys(found["attr"])))

# CORS preflight answers touch nothing on AWS.
uses(__name__, API_HANDLER)
