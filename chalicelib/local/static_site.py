"""The built SPA (``static-site/dist``), served by ``chalice local`` beside the API.

On AWS the SPA lives in S3 behind CloudFront; locally this blueprint plays that part, so one
process on one port serves both the pages and the API (same origin, no CORS).

Chalice routes take one path segment per parameter (no greedy paths), so the layout is flat
(Vite ``build.assetsDir: "assets"``):

``/``                 index.html, ``Cache-Control: no-cache`` (it names the current assets)
``/assets/{name}``    hashed assets, immutable for a year
``/config.json``      the SPA's runtime config, written from the environment, no-cache
``/{name}``           the other top-level files Vite copies from ``public/`` (favicon), no-cache;
                      ``/favicon.ico`` is the SVG icon unless the build has an .ico

Settings (read from the environment on each request, so a test or a rebuild needs no restart):
``SPA_DIR`` the built dist directory; ``SPA_API_BASE_URL`` the API origin the SPA should call
("" = same origin, the default); the sign-in settings of ``config.json``'s ``auth`` object (see
``spa_auth_config``).

Files are read lazily, kept in memory per process with a strong ETag (re-read only when their
size or mtime changes, e.g. after ``npm run build``), and answered with 304 to a matching
``If-None-Match``.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass

from chalice import Blueprint, Response

from ..web import error_response

static_site = Blueprint(__name__)

NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"

#: served as text (str bodies): what a Vite build of this SPA emits
TEXT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml",
}

#: served as bytes; Chalice base64-encodes a body only when its type is in
#: ``app.api.binary_types``, so these are added there on first use (see ``_binary_response``)
BINARY_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
}


@dataclass(frozen=True)
class _File:
    stamp: tuple[int, int]  # (size, mtime_ns): re-read when either changes
    body: bytes
    etag: str
    content_type: str


_cache: dict[str, _File] = {}
_lock = threading.Lock()


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _safe_name(name: str) -> bool:
    """One plain file name: no separators, no parent references, no hidden files."""
    return (
        bool(name)
        and "/" not in name
        and "\\" not in name
        and ".." not in name
        and not name.startswith(".")
        and "\x00" not in name
    )


def _content_type(name: str) -> str | None:
    ext = os.path.splitext(name)[1].lower()
    return TEXT_TYPES.get(ext) or BINARY_TYPES.get(ext)


def _spa_dir() -> str | None:
    return os.environ.get("SPA_DIR") or None


def _load(path: str) -> _File | None:
    """The file at ``path`` from the cache, (re)reading it when it changed; None if absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.path.isfile(path):
        return None
    stamp = (st.st_size, st.st_mtime_ns)
    cached = _cache.get(path)
    if cached is not None and cached.stamp == stamp:
        return cached
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached.stamp == stamp:
            return cached
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        entry = _File(stamp, data, _etag(data), _content_type(path) or "application/octet-stream")
        _cache[path] = entry
        return entry


def _not_found(what: str) -> Response:
    return error_response(404, "not_found", f"{what} does not exist")


def _spa_missing() -> Response:
    spa_dir = _spa_dir()
    where = f"SPA_DIR={spa_dir!r} has no index.html" if spa_dir else "SPA_DIR is not set"
    return error_response(
        503, "spa_not_built",
        f"{where}; build the SPA with `npm ci && npm run build` in static-site/ "
        "and point SPA_DIR at static-site/dist")


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _respond(body: bytes, etag: str, content_type: str, cache_control: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    if _matches(static_site.current_request.headers.get("if-none-match"), etag):
        return Response(body="", status_code=304, headers=headers)
    headers["Content-Type"] = content_type
    if content_type in BINARY_TYPES.values():
        _ensure_binary_type(content_type)
        return Response(body=body, status_code=200, headers=headers)
    return Response(body=body.decode("utf-8"), status_code=200, headers=headers)


def _ensure_binary_type(content_type: str) -> None:
    """Let Chalice pass this type through as bytes (it base64-encodes binary types only)."""
    binary_types = static_site.current_app.api.binary_types
    if content_type not in binary_types:
        binary_types.append(content_type)


def _serve_file(directory: str, url_prefix: str, name: str, cache_control: str) -> Response:
    url = f"{url_prefix}/{name}"
    if not _safe_name(name) or _content_type(name) is None:
        return _not_found(url)
    path = os.path.join(directory, name)
    # No symlink may lead out of the SPA directory.
    root = os.path.realpath(_spa_dir() or directory)
    if os.path.commonpath([root, os.path.realpath(path)]) != root:
        return _not_found(url)
    entry = _load(path)
    if entry is None:
        return _not_found(url)
    try:
        return _respond(entry.body, entry.etag, entry.content_type, cache_control)
    except UnicodeDecodeError:
        return error_response(500, "bad_asset", f"{url} is not UTF-8 text")


@static_site.route("/", methods=["GET"])
def index() -> Response:
    spa_dir = _spa_dir()
    entry = _load(os.path.join(spa_dir, "index.html")) if spa_dir else None
    if entry is None:
        return _spa_missing()
    return _respond(entry.body, entry.etag, TEXT_TYPES[".html"], NO_CACHE)


@static_site.route("/assets/{name}", methods=["GET"])
def asset(name: str) -> Response:
    spa_dir = _spa_dir()
    if not spa_dir:
        return _spa_missing()
    return _serve_file(os.path.join(spa_dir, "assets"), "/assets", name, IMMUTABLE)


#: what the SPA asks for unless ``SPA_AUTH_SCOPES`` says otherwise
DEFAULT_SCOPES = "openid profile email"


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def spa_auth_config() -> dict[str, str] | None:
    """``config.json``'s ``auth`` object: how the SPA signs in (authorization code + PKCE, as
    a public client). None when no client id is configured (the SPA then says sign-in is not
    set up, and shows no data).

    - ``clientId``: ``SPA_AUTH_CLIENT_ID``, else the first of ``AUTH_CLIENT_ID``;
    - ``issuer``: ``AUTH_ISSUER`` (the SPA reads its discovery document for any endpoint that is
      not given);
    - endpoints: ``SPA_AUTH_DOMAIN`` (a Cognito hosted-UI domain,
      ``https://<prefix>.auth.<region>.amazoncognito.com``) gives ``/oauth2/authorize``,
      ``/oauth2/token``, ``/oauth2/revoke`` and ``/logout``; with the dev issuer
      (``DEV_ISSUER=1``), ``<issuer>/authorize``, ``<issuer>/token`` and ``<issuer>/logout`` (which
      ends its sign-in session); ``SPA_AUTH_AUTHORIZE_URL``,
      ``SPA_AUTH_TOKEN_URL``, ``SPA_AUTH_LOGOUT_URL``, ``SPA_AUTH_REVOKE_URL`` override each;
    - ``scopes``: ``SPA_AUTH_SCOPES`` (default ``openid profile email``);
    - ``redirectUri``: ``SPA_AUTH_REDIRECT_URI``, only when it must differ from the page's own
      origin + path.
    """
    client_id = _env("SPA_AUTH_CLIENT_ID") or next(
        (c.strip() for c in _env("AUTH_CLIENT_ID").split(",") if c.strip()), "")
    if not client_id:
        return None
    issuer = _env("AUTH_ISSUER").rstrip("/")
    auth: dict[str, str] = {"clientId": client_id}
    if issuer:
        auth["issuer"] = issuer
    domain = _env("SPA_AUTH_DOMAIN").rstrip("/")
    if domain:
        auth.update(authorizeUrl=f"{domain}/oauth2/authorize", tokenUrl=f"{domain}/oauth2/token",
                    revokeUrl=f"{domain}/oauth2/revoke", logoutUrl=f"{domain}/logout")
    elif issuer and _env("DEV_ISSUER") == "1":
        # The local issuer's endpoints (dev_issuer.DevIssuer.discovery), written out so a
        # signed-out page goes to sign in without first fetching the discovery document.
        auth.update(authorizeUrl=f"{issuer}/authorize", tokenUrl=f"{issuer}/token",
                    logoutUrl=f"{issuer}/logout")
    for key, name in (("authorizeUrl", "SPA_AUTH_AUTHORIZE_URL"), ("tokenUrl", "SPA_AUTH_TOKEN_URL"),
                      ("logoutUrl", "SPA_AUTH_LOGOUT_URL"), ("revokeUrl", "SPA_AUTH_REVOKE_URL"),
                      ("redirectUri", "SPA_AUTH_REDIRECT_URI")):
        if _env(name):
            auth[key] = _env(name)
    auth["scopes"] = _env("SPA_AUTH_SCOPES") or DEFAULT_SCOPES
    return auth


@static_site.route("/config.json", methods=["GET"])
def spa_config() -> Response:
    from ..live.settings import live_settings
    config: dict = {"apiBaseUrl": os.environ.get("SPA_API_BASE_URL", "")}
    if live_settings().websocket_url:  # absent: the SPA polls
        config["websocketUrl"] = live_settings().websocket_url
    auth = spa_auth_config()
    if auth is not None:
        config["auth"] = auth
    body = json.dumps(config).encode()
    return _respond(body, _etag(body), "application/json", NO_CACHE)


#: what browsers ask for by themselves, on any page (the sign-in page's too), and the file that answers
FAVICON_ICO, FAVICON = "favicon.ico", "favicon.svg"


@static_site.route("/{name}", methods=["GET"])
def top_level_file(name: str) -> Response:
    """favicon.svg, robots.txt, index.html: what Vite copies to the top of dist/. A browser asks
    for /favicon.ico on its own; without such a file the SPA's SVG icon answers it."""
    spa_dir = _spa_dir()
    if not spa_dir:
        return _spa_missing()
    if name == FAVICON_ICO and not os.path.isfile(os.path.join(spa_dir, FAVICON_ICO)):
        name = FAVICON
    return _serve_file(spa_dir, "", name, NO_CACHE)
