"""The access check: who is calling and whether the route's rule lets them. No Chalice here: it
takes the request's headers and a rule and returns a :class:`Principal` or raises
:class:`AccessRefused` carrying the status, body and headers to answer with.

Per request, with warm caches, the check makes no network call and at most one store write:
user tokens are verified against the cached JWKS; API keys against a record cached for
``api_key_cache_ttl_s`` (the revocation bound), plus one atomic rate counter increment; the
key's last-used time is written at most once a minute per key per process.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..config import AuthSettings
from .access import AccessRule
from .api_keys import ApiKeyCache, ApiKeyRecord, new_api_key
from .rate_limit import RateLimit
from .repository import AccessRepository
from .roles import Role, groups_in_claim, role_for_groups
from .signing_keys import SigningKeys, SigningKeysUnavailable
from .tokens import TokenPolicy, TokenRefused, VerifiedTokens, verify_token

logger = logging.getLogger("mission_control.auth")

#: a key's last-used time is written at most this often (seconds) per key and process
LAST_USED_EVERY_S = 60


@dataclass(frozen=True)
class Principal:
    """Who is calling. ``subject`` is the token's ``sub`` or ``apikey:<id>``."""
    kind: str  # "user" | "api_key" | "anonymous"
    subject: str
    role: Role | None = None
    name: str | None = None
    email: str | None = None
    scopes: tuple[str, ...] = ()
    key_id: str | None = None


ANONYMOUS = Principal("anonymous", "anonymous")


@dataclass
class AccessRefused(Exception):
    """The answer to a call the rule does not let through. ``message`` never echoes a secret."""
    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class AccessGate:
    """One per process (see ``auth.gate()``); tests build their own with an injected clock."""

    def __init__(self, config: AuthSettings, repository: Callable[[], AccessRepository],
                 clock: Callable[[], float] = time.time,
                 fetch_json: Callable[[str, float], Any] | None = None):
        self.config = config
        self.repository = repository
        self.clock = clock
        self.rate = RateLimit(*config.ingest_rate)
        self.api_keys = ApiKeyCache(lambda key_id: self.repository().key(key_id),
                                    ttl_s=config.api_key_cache_ttl_s, clock=clock)
        self.group_roles = {g: Role.named(r) for g, r in config.group_roles}
        self.default_role = Role.named(config.default_role) if config.default_role else None
        self.signing_keys: SigningKeys | None = None
        self.token_policy: TokenPolicy | None = None
        #: tokens verified in the last minute, so repeated calls skip the signature check
        self.verified_tokens = VerifiedTokens(config.leeway_s)
        if config.issuer:
            extra = {"fetch_json": fetch_json} if fetch_json else {}
            self.signing_keys = SigningKeys(
                config.issuer, config.algorithms, config.discovery_url,
                timeout_s=config.jwks_timeout_s, max_age_s=config.jwks_max_age_s,
                min_refresh_s=config.jwks_min_refresh_s, clock=clock, **extra)
            self.token_policy = TokenPolicy(
                issuer=config.issuer, algorithms=config.algorithms, audiences=config.audiences,
                client_ids=config.client_ids, token_uses=config.token_uses,
                leeway_s=config.leeway_s)

    # -- the check -----------------------------------------------------------------------------
    def check(self, rule: AccessRule, headers: Mapping[str, str]) -> Principal:
        """The caller, if ``rule`` lets them through; else raises :class:`AccessRefused`.
        ``headers`` must be case-insensitive (Chalice's are)."""
        if rule.kind in ("public", "signature"):
            return ANONYMOUS
        if rule.kind == "api_key":
            return self._machine(rule, headers)
        return self._user(rule, headers)

    def _user(self, rule: AccessRule, headers: Mapping[str, str]) -> Principal:
        realm = f'Bearer realm="{self.config.realm}"'
        authorization = headers.get("authorization")
        if not authorization:
            message = "this route needs a signed-in user: send Authorization: Bearer <token>"
            if headers.get("x-api-key"):
                message = ("API keys open only ingest routes; this route needs a user token "
                           "(Authorization: Bearer <token>)")
            raise AccessRefused(401, "unauthenticated", message, headers={"WWW-Authenticate": realm})
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise self._invalid_token(realm, "the Authorization header is not 'Bearer <token>'")
        if self.token_policy is None or self.signing_keys is None:
            logger.error("a user token arrived but no issuer is configured (AUTH_ISSUER)")
            raise AccessRefused(503, "auth_unavailable", "user tokens cannot be checked: this "
                                "deployment has no token issuer configured (AUTH_ISSUER)")
        token, now = token.strip(), self.clock()
        try:
            claims = self.verified_tokens.get(token, now)
            if claims is None:
                claims = verify_token(token, self.token_policy, self.signing_keys.key_for)
                self.verified_tokens.put(token, claims, now)
        except TokenRefused as refused:
            logger.info("token refused: %s", refused.reason)
            raise self._invalid_token(realm, refused.reason) from None
        except SigningKeysUnavailable:
            raise AccessRefused(503, "auth_unavailable", "the token issuer's keys cannot be "
                                "fetched right now; retry in a moment",
                                headers={"Retry-After": "5"}) from None
        principal = self._user_principal(claims)
        if principal.role is None or principal.role < rule.role:
            has = f"you have {principal.role.label}" if principal.role else "you have no role"
            raise AccessRefused(
                403, "forbidden", f"this action needs the {rule.role.label} role ({has})",
                [{"field": "role", "required": rule.role.label,
                  "current": principal.role.label if principal.role else None}],
                headers={"WWW-Authenticate": f'{realm}, error="insufficient_scope"'})
        return principal

    def _invalid_token(self, realm: str, reason: str) -> AccessRefused:
        description = reason.replace('"', "'")
        return AccessRefused(401, "unauthenticated", f"invalid token: {reason}", headers={
            "WWW-Authenticate": f'{realm}, error="invalid_token", error_description="{description}"'})

    def _user_principal(self, claims: dict[str, Any]) -> Principal:
        groups = groups_in_claim(claims.get(self.config.groups_claim))
        name = next((claims[c] for c in ("name", "preferred_username", "cognito:username", "username")
                     if isinstance(claims.get(c), str) and claims[c]), None)
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        return Principal("user", claims["sub"], role_for_groups(groups, self.group_roles, self.default_role),
                         name=name, email=email)

    def _machine(self, rule: AccessRule, headers: Mapping[str, str]) -> Principal:
        realm = f'ApiKey realm="{self.config.realm}"'
        presented = headers.get("x-api-key")
        if not presented:
            message = f"this route takes an API key with scope {rule.scope} in the x-api-key header"
            if headers.get("authorization"):
                message = f"user tokens do not open ingest routes; {message}"
            raise AccessRefused(401, "unauthenticated", message, headers={"WWW-Authenticate": realm})
        record = self.api_keys.verified(presented.strip())
        if record is None:
            raise AccessRefused(401, "unauthenticated", "the API key is unknown or revoked",
                                headers={"WWW-Authenticate": f'{realm}, error="invalid_key"'})
        if rule.scope not in record.scopes:
            raise AccessRefused(403, "forbidden", f"this API key lacks scope {rule.scope}",
                                [{"field": "scope", "required": rule.scope}])
        now = self.clock()
        count = self.repository().count_request(record.key_id, self.rate, now)
        if count > self.rate.requests:
            retry = self.rate.retry_after_s(now)
            raise AccessRefused(429, "rate_limited", f"this API key may send {self.rate.describe()}; "
                                f"retry in {retry} s", headers={"Retry-After": str(retry)})
        self._note_used(record, now)
        return Principal("api_key", f"apikey:{record.key_id}", scopes=record.scopes, key_id=record.key_id)

    def _note_used(self, record: ApiKeyRecord, now: float) -> None:
        if not self.api_keys.due_for_last_used(record.key_id, LAST_USED_EVERY_S):
            return
        try:
            self.repository().note_used(record.key_id, int(now * 1000))
        except Exception:  # noqa: BLE001 - bookkeeping must not fail the caller's request
            logger.warning("could not record the last use of API key %s", record.key_id, exc_info=True)

    # -- key administration (admins, missionctl) -----------------------------------------------
    def create_key(self, scopes: list[str], name: str, created_by: str) -> tuple[str, ApiKeyRecord]:
        """A new key (returned once, never stored) and its stored record."""
        key, record = new_api_key(scopes, name, created_by, int(self.clock() * 1000))
        record = self.repository().add_key(record)
        logger.info("API key %s created by %s with scopes %s", record.key_id, created_by,
                    ",".join(record.scopes))
        return key, record

    def revoke_key(self, key_id: str, revoked_by: str) -> ApiKeyRecord | None:
        record = self.repository().revoke_key(key_id, int(self.clock() * 1000))
        self.api_keys.forget(key_id)  # this process stops accepting it now; others within the TTL
        if record is not None:
            logger.info("API key %s revoked by %s", key_id, revoked_by)
        return record

    def list_keys(self) -> list[dict[str, Any]]:
        repo = self.repository()
        records = repo.keys()
        last_used = repo.last_used([r.key_id for r in records]) if records else {}
        return [r.public(last_used.get(r.key_id)) for r in records]
