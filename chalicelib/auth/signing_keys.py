"""The issuer's signing keys (its JWKS), fetched over HTTP and cached in the process.

No network call per request: keys are fetched once, kept for ``max_age_s``, and fetched again
early only when a token names a ``kid`` the cache does not hold (the issuer rotated its keys)
— at most once per ``min_refresh_s``, so a flood of tokens with made-up ``kid``s costs the
issuer one request per interval, not one per token. A failed refresh keeps the keys already
held. Fetches time out after ``timeout_s``. The same path serves Cognito, any OIDC issuer
(Google, Okta) and the local dev issuer, found through its discovery document.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable
from urllib.parse import urlsplit

logger = logging.getLogger("mission_control.auth")

#: discovery documents and JWKS are small; anything bigger is refused unread
MAX_DOCUMENT_BYTES = 256 * 1024
MIN_RSA_BITS = 2048


class SigningKeysUnavailable(Exception):
    """The issuer's keys could not be fetched and none are cached: tokens cannot be checked."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # The discovery document names the JWKS URL; a redirect must not swap in another host.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


def fetch_json_over_http(url: str, timeout_s: float) -> Any:
    """GET ``url`` as JSON: https (or http on loopback), no redirects, no proxy for loopback."""
    parts = urlsplit(url)
    loopback = (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise SigningKeysUnavailable(f"refusing to fetch keys over {parts.scheme or 'no scheme'}")
    handlers: list = [_NoRedirects()]
    if loopback:
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with opener.open(request, timeout=timeout_s) as reply:
            body = reply.read(MAX_DOCUMENT_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SigningKeysUnavailable(f"GET {url}: {exc}") from None
    if len(body) > MAX_DOCUMENT_BYTES:
        raise SigningKeysUnavailable(f"GET {url}: document too large")
    try:
        return json.loads(body)
    except ValueError:
        raise SigningKeysUnavailable(f"GET {url}: not JSON") from None


class SigningKeys:
    """``kid`` -> key for one issuer. Thread-safe; ``clock`` is epoch seconds (injectable)."""

    def __init__(self, issuer: str, algorithms: tuple[str, ...], discovery_url: str | None = None,
                 timeout_s: float = 2.0, max_age_s: float = 3600, min_refresh_s: float = 30,
                 fetch_json: Callable[[str, float], Any] = fetch_json_over_http,
                 clock: Callable[[], float] = time.time):
        self.issuer = issuer.rstrip("/")
        self.algorithms = algorithms
        self.discovery_url = discovery_url or f"{self.issuer}/.well-known/openid-configuration"
        self.timeout_s = timeout_s
        self.max_age_s = max_age_s
        self.min_refresh_s = min_refresh_s
        self.fetch_json = fetch_json
        self.clock = clock
        self._keys: dict[str, Any] = {}
        self._jwks_uri: str | None = None
        self._fetched_at: float | None = None   # last successful fetch
        self._attempted_at: float | None = None  # last fetch, successful or not
        self._lock = threading.Lock()
        #: fetches made (for tests and benchmarks: proves "no network call per request")
        self.fetches = 0

    def key_for(self, kid: str) -> Any:
        """The issuer's key named ``kid`` (a ``jwt.PyJWK``), or None if the issuer has none.

        Raises :class:`SigningKeysUnavailable` only while no keys were ever fetched.
        """
        now = self.clock()
        key = self._keys.get(kid)
        if key is not None and self._is_fresh(now):
            return key
        with self._lock:
            key = self._keys.get(kid)  # another thread may have refreshed while this one waited
            if key is not None and self._is_fresh(now):
                return key
            # Holding no keys (issuer down at a cold start), retry sooner, still rate limited.
            interval = self.min_refresh_s if self._fetched_at is not None else min(self.min_refresh_s, 1.0)
            if self._attempted_at is None or now - self._attempted_at >= interval:
                self._refresh(now)
            if self._fetched_at is None:
                raise SigningKeysUnavailable(f"no signing keys for {self.issuer} yet")
            return self._keys.get(kid)

    def _is_fresh(self, now: float) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self.max_age_s

    def _refresh(self, now: float) -> None:
        """Fetch the JWKS (discovering its URL first); on failure keep what is held."""
        self._attempted_at = now
        self.fetches += 1
        try:
            if self._jwks_uri is None:
                self._jwks_uri = self._discover()
            keys = self._parse_jwks(self.fetch_json(self._jwks_uri, self.timeout_s))
        except SigningKeysUnavailable as exc:
            logger.warning("signing keys of %s: fetch failed (%s)%s", self.issuer, exc,
                           "; keeping the cached keys" if self._keys else "")
            return
        self._keys, self._fetched_at = keys, now

    def _discover(self) -> str:
        doc = self.fetch_json(self.discovery_url, self.timeout_s)
        if not isinstance(doc, dict) or doc.get("issuer", "").rstrip("/") != self.issuer:
            # OIDC Discovery 4.3: the document must name the very issuer it was fetched for.
            raise SigningKeysUnavailable(f"{self.discovery_url} names another issuer")
        uri = doc.get("jwks_uri")
        if not isinstance(uri, str):
            raise SigningKeysUnavailable(f"{self.discovery_url} has no jwks_uri")
        parts = urlsplit(uri)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in (
                "127.0.0.1", "localhost", "::1")):
            raise SigningKeysUnavailable(f"jwks_uri {uri!r} is not https")
        return uri

    def _parse_jwks(self, jwks: Any) -> dict[str, Any]:
        from jwt import PyJWK, PyJWTError  # lazily: see tokens.py

        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise SigningKeysUnavailable("the JWKS has no keys list")
        keys: dict[str, Any] = {}
        for jwk in jwks["keys"]:
            if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
                continue
            if jwk.get("use", "sig") != "sig" or jwk.get("kty") not in ("RSA", "EC"):
                continue  # encryption keys and symmetric keys never verify our tokens
            try:
                key = PyJWK(jwk)
            except (PyJWTError, ValueError, TypeError):
                continue
            if key.algorithm_name not in self.algorithms:
                continue
            if jwk["kty"] == "RSA" and key.key.key_size < MIN_RSA_BITS:
                continue
            keys[jwk["kid"]] = key
        return keys
