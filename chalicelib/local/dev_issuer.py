"""The dev stage's OIDC issuer: demo users of each role sign in locally, and the app checks
their tokens exactly as it checks Cognito's — through the discovery document and JWKS fetched
over HTTP (``auth.signing_keys``). There is no switch that turns authentication off.

- Signing key: RSA 2048, generated on first run, kept in ``<data dir>/dev-issuer-key.pem``
  (mode 0600, directory 0700); ``kid`` is its RFC 7638 thumbprint.
- ``/auth/.well-known/openid-configuration``, ``/auth/jwks.json``: discovery and keys.
- ``/auth/authorize``: OAuth 2.0 authorization code flow with PKCE (S256 only); the page lists
  the demo users; picking one redirects to the client's registered redirect URI (exact match)
  with ``code`` and ``state``. Codes are single-use and live ``CODE_TTL_S``.
- The sign-in session, as Cognito's hosted UI keeps one: picking a user also starts a session
  (a random id in an HttpOnly, SameSite=Lax cookie on the issuer's path; a server-side record
  under its SHA-256 that expires after ``SESSION_TTL_S``). While it lasts, an authorization
  request returns a code at once, without the page: a reload or a second tab stays signed in.
  ``prompt=none`` asks for exactly that and gets ``error=login_required`` without a session;
  ``prompt=login`` shows the page whatever the session.
- ``/auth/logout``: ends the session (record and cookie), then returns to the client's
  registered ``post_logout_redirect_uri`` (or Cognito's ``logout_uri``), else says so.
- ``/auth/token``: code + ``code_verifier`` -> access and ID tokens (``ACCESS_TOKEN_TTL_S``)
  and a refresh token; ``grant_type=refresh_token`` rotates it (each is single-use).
  Errors follow RFC 6749 (``{"error": "invalid_grant", ...}``), as OAuth clients expect.

Tokens look like Cognito's (``token_use``, ``client_id``, ``cognito:groups`` or whatever
``AUTH_GROUPS_CLAIM`` names), so the dev stage exercises the prod configuration's checks.

The routes exist only when ``DEV_ISSUER=1`` in the dev stage (``auth_settings`` refuses it
anywhere else, and this module refuses to build its routes without it); the local runner sets
it. ``DevIssuer`` itself (keys, tokens) has no Chalice dependency: ``missionctl token`` and the
tests use it directly.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit

KEY_FILE = "dev-issuer-key.pem"
#: written by the runner: which issuer (URL, client) the running product trusts
ISSUER_FILE = "dev-issuer.json"
DEFAULT_CLIENT_ID = "mission-control-spa"
ACCESS_TOKEN_TTL_S = 15 * 60
CODE_TTL_S = 60
REFRESH_TOKEN_TTL_S = 8 * 3600
SESSION_TTL_S = 8 * 3600
SESSION_COOKIE = "mc_dev_session"
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 4.1


@dataclass(frozen=True)
class DemoUser:
    sub: str
    name: str
    email: str
    role: str


DEMO_USERS = {u.role: u for u in (
    DemoUser("demo-viewer", "Vera Viewer", "viewer@demo.invalid", "viewer"),
    DemoUser("demo-operator", "Omar Operator", "operator@demo.invalid", "operator"),
    DemoUser("demo-admin", "Ada Admin", "admin@demo.invalid", "admin"),
)}


class OAuthError(Exception):
    """An RFC 6749 error: ``error`` code and a description safe to show."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def load_or_create_signing_key(data_dir: str | Path) -> Any:
    """The issuer's RSA private key from ``<data_dir>/dev-issuer-key.pem``, created (0600)
    if absent. Safe when two processes start at once: the file appears whole or not at all."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    directory = Path(data_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / KEY_FILE
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        temporary = directory / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        try:
            os.link(temporary, path)  # atomic and never overwrites: the first process wins
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # someone loosened it: a signing key is for this user only
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class DevIssuer:
    """Keys, discovery, JWKS and token minting for one issuer URL. ``clock``: epoch seconds."""

    def __init__(self, issuer: str, private_key: Any, client_id: str = DEFAULT_CLIENT_ID,
                 redirect_uris: tuple[str, ...] = (), groups_claim: str = "cognito:groups",
                 clock: Callable[[], float] = time.time):
        self.issuer = issuer.rstrip("/")
        self.private_key = private_key
        self.client_id = client_id
        self.redirect_uris = redirect_uris
        self.groups_claim = groups_claim
        self.clock = clock
        numbers = private_key.public_key().public_numbers()
        self._public_jwk = {
            "kty": "RSA",
            "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }
        # RFC 7638: the thumbprint of the required members, in lexicographic order, no spaces.
        canonical = json.dumps({k: self._public_jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
        self.kid = _b64url(hashlib.sha256(canonical.encode()).digest())

    @classmethod
    def in_data_dir(cls, data_dir: str | Path, issuer: str, **kwargs: Any) -> "DevIssuer":
        return cls(issuer, load_or_create_signing_key(data_dir), **kwargs)

    # -- what any OIDC client and the app read --------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "end_session_endpoint": f"{self.issuer}/logout",
            "jwks_uri": f"{self.issuer}/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "prompt_values_supported": ["none", "login"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": ["sub", "name", "email", self.groups_claim],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self._public_jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    # -- tokens --------------------------------------------------------------------------------
    def _sign(self, claims: dict[str, Any]) -> str:
        import jwt
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def access_token(self, user: DemoUser, ttl_s: int = ACCESS_TOKEN_TTL_S,
                     client_id: str | None = None) -> str:
        """An access token shaped like Cognito's (plus ``name``/``email``, for ``/api/me``)."""
        now = int(self.clock())
        return self._sign({
            "iss": self.issuer, "sub": user.sub, "token_use": "access",
            "client_id": client_id or self.client_id, "scope": "openid profile email",
            self.groups_claim: [user.role], "username": user.sub, "name": user.name,
            "email": user.email, "auth_time": now, "iat": now, "exp": now + ttl_s,
            "jti": str(uuid.uuid4())})

    def id_token(self, user: DemoUser, nonce: str | None = None, ttl_s: int = ACCESS_TOKEN_TTL_S) -> str:
        now = int(self.clock())
        claims = {"iss": self.issuer, "sub": user.sub, "aud": self.client_id, "token_use": "id",
                  self.groups_claim: [user.role], "name": user.name, "email": user.email,
                  "email_verified": True, "auth_time": now, "iat": now, "exp": now + ttl_s,
                  "jti": str(uuid.uuid4())}
        if nonce:
            claims["nonce"] = nonce
        return self._sign(claims)

    # -- authorization code flow with PKCE ------------------------------------------------------
    def check_client(self, params: dict[str, str]) -> str:
        """The redirect URI to answer to, once the client and its redirect URI are known. Until
        then errors must not redirect anywhere (RFC 6749 4.1.2.1): raises ``OAuthError``."""
        if params.get("client_id") != self.client_id:
            raise OAuthError("unauthorized_client", "unknown client_id")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:  # exact match, no prefix or pattern
            raise OAuthError("invalid_request", "redirect_uri is not registered for this client")
        return redirect_uri

    def check_authorization_request(self, params: dict[str, str]) -> None:
        """Errors the client should hear through its redirect URI."""
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "only response_type=code is supported")
        if params.get("code_challenge_method") != "S256":
            raise OAuthError("invalid_request", "PKCE with code_challenge_method=S256 is required")
        if not re.fullmatch(r"[A-Za-z0-9_-]{43}", params.get("code_challenge", "")):
            raise OAuthError("invalid_request", "code_challenge must be a base64url SHA-256")
        if not params.get("state"):
            raise OAuthError("invalid_request", "state is required")

    def issue_code(self, params: dict[str, str], user: DemoUser, grants: Any) -> str:
        """A fresh single-use code for ``user`` (``grants``: the auth repository)."""
        code = secrets.token_urlsafe(32)
        grants.put_grant("dev-code", _digest(code), {
            "clientId": params["client_id"], "redirectUri": params["redirect_uri"],
            "codeChallenge": params["code_challenge"], "role": user.role,
            "nonce": params.get("nonce") or None}, int(self.clock()) + CODE_TTL_S)
        return code

    def exchange(self, form: dict[str, str], grants: Any) -> dict[str, Any]:
        """The token endpoint: ``authorization_code`` (with PKCE) or ``refresh_token``."""
        if form.get("client_id") != self.client_id:
            raise OAuthError("invalid_client", "unknown client_id")
        grant_type = form.get("grant_type")
        now = int(self.clock())
        if grant_type == "authorization_code":
            verifier = form.get("code_verifier", "")
            if not _VERIFIER.match(verifier):
                raise OAuthError("invalid_request", "code_verifier must be 43-128 unreserved characters")
            grant = grants.redeem_grant("dev-code", _digest(form.get("code", "")), now + CODE_TTL_S)
            if grant is None:
                raise OAuthError("invalid_grant", "the code is unknown, expired or already used")
            challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
            if grant["clientId"] != self.client_id or grant["redirectUri"] != form.get("redirect_uri") \
                    or not hmac.compare_digest(challenge, grant["codeChallenge"]):
                raise OAuthError("invalid_grant", "the code was issued for another client, "
                                 "redirect_uri or code_verifier")
            return self._token_response(DEMO_USERS[grant["role"]], grant.get("nonce"), grants)
        if grant_type == "refresh_token":
            grant = grants.redeem_grant("dev-refresh", _digest(form.get("refresh_token", "")),
                                        now + REFRESH_TOKEN_TTL_S)
            if grant is None or grant["clientId"] != self.client_id:
                raise OAuthError("invalid_grant", "the refresh token is unknown, expired or already used")
            return self._token_response(DEMO_USERS[grant["role"]], None, grants)
        raise OAuthError("unsupported_grant_type", "use authorization_code or refresh_token")

    def _token_response(self, user: DemoUser, nonce: str | None, grants: Any) -> dict[str, Any]:
        refresh = secrets.token_urlsafe(32)
        grants.put_grant("dev-refresh", _digest(refresh), {"clientId": self.client_id, "role": user.role},
                         int(self.clock()) + REFRESH_TOKEN_TTL_S)
        return {"access_token": self.access_token(user), "id_token": self.id_token(user, nonce),
                "refresh_token": refresh, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_TTL_S}

    # -- the sign-in session (what lets a reload or a second tab skip the page) -----------------
    def start_session(self, user: DemoUser, grants: Any) -> str:
        """A new session for ``user``: its id, for the cookie (only its digest is stored)."""
        session = secrets.token_urlsafe(32)
        expires = int(self.clock()) + SESSION_TTL_S
        grants.put_grant("dev-session", _digest(session), {"role": user.role, "expiresAt": expires}, expires)
        return session

    def session_user(self, session: str | None, grants: Any) -> DemoUser | None:
        """The user whose live session ``session`` is, or None (no cookie, unknown, expired)."""
        if not session:
            return None
        grant = grants.grant("dev-session", _digest(session))
        if grant is None or grant.get("expiresAt", 0) <= self.clock():
            return None
        return DEMO_USERS.get(grant.get("role", ""))

    def end_session(self, session: str | None, grants: Any) -> None:
        if session:
            grants.forget_grant("dev-session", _digest(session))

    def session_cookie(self, session: str, max_age_s: int = SESSION_TTL_S) -> str:
        """``Set-Cookie`` for the session: the issuer's path only, never readable by scripts,
        sent on top-level navigations from other sites (an authorization request) but not on
        their sub-requests; ``max_age_s=0`` clears it."""
        parts = urlsplit(self.issuer)
        secure = "; Secure" if parts.scheme == "https" else ""
        return (f"{SESSION_COOKIE}={session}; Path={parts.path or '/'}; Max-Age={max_age_s}; HttpOnly; "
                f"SameSite=Lax{secure}")

    def check_logout(self, params: dict[str, str]) -> str | None:
        """Where to return after a logout: the registered URI the client named (RP-initiated
        logout's ``post_logout_redirect_uri``, Cognito's ``logout_uri``), else None."""
        target = params.get("post_logout_redirect_uri") or params.get("logout_uri")
        if target and params.get("client_id") == self.client_id and target in self.redirect_uris:
            return target
        return None

    # -- the sign-in page -----------------------------------------------------------------------
    def sign_in_page(self, params: dict[str, str] | None) -> str:
        """The demo users as buttons that post back to /auth/authorize with the client's
        request; without a request (someone opened the URL by hand), how to sign in instead."""
        rows = []
        for user in DEMO_USERS.values():
            label = f"{html.escape(user.name)} <small>{html.escape(user.role)}</small>"
            rows.append(f'<li><button name="user" value="{html.escape(user.role)}">{label}</button></li>'
                        if params else f"<li>{label} — <code>.venv/bin/missionctl token --role "
                        f"{html.escape(user.role)}</code></li>")
        if params:
            hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                             for k, v in params.items() if k in AUTHORIZE_PARAMETERS)
            body = (f'<p>Choose a demo user.</p><form method="post" action="{html.escape(self.issuer)}'
                    f'/authorize">{hidden}<ul>{"".join(rows)}</ul></form>')
        else:
            body = ("<p>Sign-in starts from the dashboard, which sends you here. On the command "
                    f"line, get a token for a demo user:</p><ul>{''.join(rows)}</ul>")
        return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>Sign in — Mission Control (dev)</title>"
                f"<link rel=\"icon\" href=\"{html.escape(_origin(self.issuer))}/favicon.svg\" type=\"image/svg+xml\">"
                "<style>" + SIGN_IN_CSS + "</style></head>"
                "<body><main><h1>Sign in to Mission Control</h1><p class=\"note\">Local dev issuer: "
                "demo users only, never on a real deployment.</p>" + body + "</main></body></html>")


AUTHORIZE_PARAMETERS = ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
                        "code_challenge_method", "scope", "nonce")


def prompts(params: dict[str, str]) -> set[str]:
    """OIDC ``prompt``: space-separated values ("none", "login", ...)."""
    return set(params.get("prompt", "").split())


def cookie_value(header: str | None, name: str) -> str | None:
    from http.cookies import CookieError, SimpleCookie
    jar = SimpleCookie()
    try:
        jar.load(header or "")
    except CookieError:
        return None
    return jar[name].value if name in jar else None
SIGN_IN_CSS = (
    "body{font-family:system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;"
    "background:#f4f5f7;color:#1b1d21}main{background:#fff;padding:2rem;border-radius:12px;"
    "box-shadow:0 2px 12px #0002;max-width:28rem}ul{list-style:none;padding:0}li{margin:.5rem 0}"
    "button{width:100%;padding:.75rem 1rem;font:inherit;text-align:left;border:1px solid #c7ccd4;"
    "border-radius:8px;background:#fff;cursor:pointer}button:hover,button:focus-visible{"
    "border-color:#2458d3;outline:2px solid #2458d3}small{color:#5b6270;margin-left:.5rem}"
    ".note{color:#5b6270}code{background:#eef0f3;padding:.1rem .3rem;border-radius:4px}")


def redirect_with(redirect_uri: str, params: dict[str, str]) -> str:
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return redirect_uri + separator + urlencode(params)


# -- the routes (chalice local, dev stage only) --------------------------------------------------
def dev_issuer_routes(config: Any = None):
    """The issuer's Chalice blueprint, for ``config`` (default: ``auth_settings()``). Refuses to
    exist unless the config says ``dev_issuer`` in the dev stage."""
    from urllib.parse import parse_qsl

    from chalice import Blueprint, Response

    from ..auth import access, repository
    from ..config import auth_settings
    from ..web import html_content_security_policy

    config = config or auth_settings()  # raises ConfigError for DEV_ISSUER=1 outside the dev stage
    if not config.dev_issuer or config.stage != "dev" or not config.issuer:
        raise RuntimeError("the dev issuer runs only with DEV_ISSUER=1, STAGE=dev and AUTH_ISSUER set")
    api = Blueprint(__name__)
    issuers: list[DevIssuer] = []

    def issuer() -> DevIssuer:
        if not issuers:  # the key file is read on first use, not at import
            issuers.append(DevIssuer.in_data_dir(
                config.data_dir, config.issuer, client_id=config.client_ids[0] if config.client_ids
                else DEFAULT_CLIENT_ID, redirect_uris=config.redirect_uris,
                groups_claim=config.groups_claim))
        return issuers[0]

    def json_reply(body: Any, status: int = 200, cache: str = "no-cache",
                   headers: dict[str, str] | None = None) -> Response:
        return Response(body=json.dumps(body), status_code=status,
                        headers={"Content-Type": "application/json", "Cache-Control": cache, **(headers or {})})

    def page(body: str, status: int = 200, form_to: tuple[str, ...] = ()) -> Response:
        return Response(body=body, status_code=status, headers={
            "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
            "Content-Security-Policy": html_content_security_policy(body, form_to)})

    def error_page(error: OAuthError) -> Response:
        return page("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in "
                    f"error</title></head><body><h1>Sign-in error</h1><p>{html.escape(error.error)}: "
                    f"{html.escape(error.description)}</p></body></html>", 400)

    def form() -> dict[str, str]:
        raw = api.current_request.raw_body or b""
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))

    @api.route("/auth/.well-known/openid-configuration", methods=["GET"])
    @access.public
    def openid_configuration():
        return json_reply(issuer().discovery(), cache="public, max-age=300")

    @api.route("/auth/jwks.json", methods=["GET"])
    @access.public
    def jwks():
        return json_reply(issuer().jwks(), cache="public, max-age=300")

    def session_id() -> str | None:
        return cookie_value(api.current_request.headers.get("cookie"), SESSION_COOKIE)

    @api.route("/auth/authorize", methods=["GET"])
    @access.public
    def authorize_page():
        params = dict(api.current_request.query_params or {})
        if not params:
            return page(issuer().sign_in_page(None))
        try:
            redirect_uri = issuer().check_client(params)
        except OAuthError as error:
            return error_page(error)
        try:
            issuer().check_authorization_request(params)
            asked = prompts(params)
            user = None if "login" in asked else issuer().session_user(session_id(), repository())
            if user is None and "none" in asked:
                raise OAuthError("login_required", "no sign-in session: the user must pick a demo user")
        except OAuthError as error:
            return _redirect(redirect_with(redirect_uri, {
                "error": error.error, "error_description": error.description,
                **({"state": params["state"]} if params.get("state") else {})}))
        if user is not None:  # a live session: answer at once, as Cognito's hosted UI does
            code = issuer().issue_code(params, user, repository())
            return _redirect(redirect_with(redirect_uri, {"code": code, "state": params["state"]}))
        return page(issuer().sign_in_page(params), form_to=(_origin(redirect_uri),))

    @api.route("/auth/authorize", methods=["POST"],
               content_types=["application/x-www-form-urlencoded"])
    @access.public
    def authorize():
        params = form()
        try:
            redirect_uri = issuer().check_client(params)
        except OAuthError as error:
            return error_page(error)
        try:
            issuer().check_authorization_request(params)
            user = DEMO_USERS.get(params.get("user", ""))
            if user is None:
                raise OAuthError("access_denied", "no such demo user")
        except OAuthError as error:
            return _redirect(redirect_with(redirect_uri, {
                "error": error.error, "error_description": error.description,
                "state": params.get("state", "")}))
        code = issuer().issue_code(params, user, repository())
        issuer().end_session(session_id(), repository())  # a new sign-in replaces the old session
        session = issuer().start_session(user, repository())
        return _redirect(redirect_with(redirect_uri, {"code": code, "state": params["state"]}),
                         {"Set-Cookie": issuer().session_cookie(session)})

    @api.route("/auth/logout", methods=["GET"])
    @access.public
    def logout():
        params = dict(api.current_request.query_params or {})
        issuer().end_session(session_id(), repository())
        clear = {"Set-Cookie": issuer().session_cookie("", max_age_s=0)}
        target = issuer().check_logout(params)
        if target is not None:
            return _redirect(target, clear)
        response = page("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed out"
                        "</title></head><body><h1>You are signed out</h1><p>The demo sign-in session has "
                        "ended.</p></body></html>")
        response.headers.update(clear)
        return response

    @api.route("/auth/token", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
    @access.public
    def token():
        try:
            tokens = issuer().exchange(form(), repository())
        except OAuthError as error:
            body = {"error": error.error, "error_description": error.description}
            if error.error == "invalid_client":  # RFC 6749 5.2: a 401 names the scheme to use
                return json_reply(body, 401, cache="no-store", headers={
                    "WWW-Authenticate": f'Basic realm="{config.issuer}", error="invalid_client"'})
            return json_reply(body, 400, cache="no-store")
        return json_reply(tokens, cache="no-store")

    return api


def _redirect(location: str, headers: dict[str, str] | None = None) -> Any:
    from chalice import Response
    return Response(body="", status_code=302, headers={
        "Location": location, "Cache-Control": "no-store", **(headers or {})})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# -- the running product's issuer, for missionctl -------------------------------------------------
def write_issuer_file(data_dir: str | Path, issuer: str, client_id: str) -> None:
    """Tell ``missionctl token`` which issuer the running product trusts (no secret in it)."""
    path = Path(data_dir) / ISSUER_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(json.dumps({"issuer": issuer, "clientId": client_id}))


def read_issuer_file(data_dir: str | Path) -> dict[str, str] | None:
    try:
        data = json.loads((Path(data_dir) / ISSUER_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("issuer"), str) else None
