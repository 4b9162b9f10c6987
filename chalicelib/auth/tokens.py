"""User tokens: RS256/ES256 JWTs checked against the issuer's signing keys. Pure: no Chalice, no
network (keys come from a resolver, see ``signing_keys``); PyJWT does the cryptography and is
imported on the first token checked, so requests that carry none never load it.

What a token must be to pass, in order (the first failure names the reason):

1. at most ``MAX_TOKEN_BYTES``, three segments, a header naming an allowed ``alg`` and a ``kid``
   (``none`` and HS256 are refused before any key is looked at);
2. signed by the issuer's key with that ``kid``, whose own algorithm is the header's (an RSA
   key never verifies an EC or HMAC token);
3. ``iss`` equal to the configured issuer; ``exp`` in the future and ``nbf``/``iat`` not in
   it (with ``leeway_s``); ``sub`` present;
4. meant for this application: Cognito's ``token_use`` when configured, then ``client_id``
   (access tokens) or ``aud`` (ID tokens, generic OIDC) in the allow-list.
"""
from __future__ import annotations

import base64
import binascii
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from .. import bounded_json

#: a token bigger than this is refused unparsed (Cognito's are ~1-2 KB)
MAX_TOKEN_BYTES = 8192
#: a JOSE header is a flat object (an embedded ``jwk`` or ``crit`` list nests once more)
MAX_HEADER_DEPTH = 4


class TokenRefused(Exception):
    """The token does not open this API. ``reason`` is safe to show the caller (it never
    echoes the token or its claims)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    algorithms: tuple[str, ...]
    audiences: tuple[str, ...] = ()
    client_ids: tuple[str, ...] = ()
    #: required ``token_use`` values; empty: the claim is not checked (generic OIDC)
    token_uses: tuple[str, ...] = ()
    leeway_s: int = 30


#: ``kid`` -> the issuer's key for it (a ``jwt.PyJWK``), or None when the issuer has no such key
KeyResolver = Callable[[str], Any]


def verify_token(token: str, policy: TokenPolicy, key_for: KeyResolver) -> dict[str, Any]:
    """The verified claims of ``token``; raises :class:`TokenRefused`."""
    if not token or len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
        raise TokenRefused("the token is not a JWT")
    header = _header_of(token)
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in policy.algorithms:
        raise TokenRefused("the token's algorithm is not accepted")
    if not isinstance(kid, str) or not kid:
        raise TokenRefused("the token names no signing key")
    key = key_for(kid)
    if key is None:
        raise TokenRefused("the token's signing key is not the issuer's")
    if key.algorithm_name != alg:
        raise TokenRefused("the token's algorithm does not match its signing key")
    import jwt  # lazily: the cryptography stack loads only when a token is checked

    try:
        claims = jwt.decode(
            token, key=key.key, algorithms=[alg], issuer=policy.issuer, leeway=policy.leeway_s,
            # The audience is checked below, by token kind: Cognito access tokens carry none.
            options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False})
    except jwt.ExpiredSignatureError:
        raise TokenRefused("the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenRefused("the token is not valid yet") from None
    except jwt.InvalidIssuerError:
        raise TokenRefused("the token is from another issuer") from None
    except jwt.InvalidSignatureError:
        raise TokenRefused("the token's signature does not verify") from None
    except jwt.MissingRequiredClaimError as exc:
        raise TokenRefused(f"the token has no {exc.claim} claim") from None
    except (jwt.PyJWTError, ValueError, RecursionError):
        # (A signed payload is parsed by PyJWT's json.loads: never a 500, even for the issuer's.)
        raise TokenRefused("the token is malformed") from None
    _check_meant_for_us(claims, policy)
    return claims


def _header_of(token: str) -> dict[str, Any]:
    """The JOSE header, unverified (it only picks the key and algorithm, both then checked).
    Parsed here rather than by PyJWT, whose per-character validation of every segment would
    otherwise run twice per token."""
    segment = token.split(".", 1)[0]
    try:
        header = bounded_json.parse(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)),
                                    max_bytes=MAX_TOKEN_BYTES, max_depth=MAX_HEADER_DEPTH)
    except (ValueError, binascii.Error, bounded_json.JsonRefused):
        raise TokenRefused("the token is not a JWT") from None
    if not isinstance(header, dict):
        raise TokenRefused("the token is not a JWT")
    return header


class VerifiedTokens:
    """Claims of tokens already verified, so a dashboard polling with one token pays for the
    signature once. An entry is used only until the token's own ``exp`` (plus the leeway the
    verification allowed) and at most ``max_age_s`` after it was verified — so a key the issuer
    withdraws stops opening cached tokens within that bound too. At most ``max_entries``
    tokens (least recently used go first). Thread-safe; ``now`` is epoch seconds."""

    def __init__(self, leeway_s: int, max_age_s: float = 60, max_entries: int = 1024):
        self.leeway_s = leeway_s
        self.max_age_s = max_age_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, now: float) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            if now >= entry[0]:
                del self._entries[token]
                return None
            self._entries.move_to_end(token)
            return entry[1]

    def put(self, token: str, claims: dict[str, Any], now: float) -> None:
        until = min(float(claims["exp"]) + self.leeway_s, now + self.max_age_s)
        with self._lock:
            self._entries[token] = (until, claims)
            self._entries.move_to_end(token)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def _check_meant_for_us(claims: dict[str, Any], policy: TokenPolicy) -> None:
    token_use = claims.get("token_use")
    if policy.token_uses and token_use not in policy.token_uses:
        raise TokenRefused("the token is not of an accepted kind (token_use)")
    if token_use == "access" and policy.token_uses:
        if claims.get("client_id") not in policy.client_ids:
            raise TokenRefused("the token was issued to another client")
        return
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    allowed = set(policy.audiences) | set(policy.client_ids)
    if not any(isinstance(a, str) and a in allowed for a in audiences):
        raise TokenRefused("the token is meant for another audience")
