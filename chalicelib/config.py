"""Settings from the environment, read once per process.

`.chalice/config.json` sets these per stage for Lambda; the local runner sets them for
`chalice local`; tests set them before building the app.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    stage: str
    store: str  # "sqlite:<path>" or "dynamodb"
    table_prefix: str
    team_timezone: str
    reporting_currency: str
    #: how far back an event may be dated; day roll-ups are kept this long
    rollup_retention_days: int
    #: shards per roll-up counter, so no single item takes more than ~100 writes/s
    rollup_shards: int
    spa_dir: str | None
    #: how long raw metric samples and their roll-ups are kept (TTL)
    metrics_retention_days: int
    #: the Kinesis stream the collectors write to (AWS); its consumer is the same ingest code
    metrics_stream: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.team_timezone)


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is outside {low}..{high}")
    return value


@functools.cache
def settings() -> Settings:
    tz = os.environ.get("TEAM_TIMEZONE", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TEAM_TIMEZONE={tz!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    currency = os.environ.get("REPORTING_CURRENCY", "USD").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ConfigError(f"REPORTING_CURRENCY={currency!r} is not an ISO 4217 code (e.g. USD)")
    store = os.environ.get("STORE", "sqlite:.data/mission-control.db")
    if not (store == "dynamodb" or (store.startswith("sqlite:") and len(store) > 7)):
        raise ConfigError(f"STORE={store!r}: use sqlite:<path> or dynamodb")
    return Settings(
        stage=os.environ.get("STAGE", "dev"),
        store=store,
        table_prefix=os.environ.get("TABLE_PREFIX", "mission-control-dev-"),
        team_timezone=tz,
        reporting_currency=currency,
        rollup_retention_days=_int("ROLLUP_RETENTION_DAYS", 400, 35, 3650),
        rollup_shards=_int("ROLLUP_SHARDS", 8, 1, 64),
        spa_dir=os.environ.get("SPA_DIR") or None,
        metrics_retention_days=_int("METRICS_RETENTION_DAYS", 90, 1, 3650),
        metrics_stream=os.environ.get("METRICS_STREAM", "mission-control-metrics"),
    )


# -- access control --------------------------------------------------------------------------
#: asymmetric algorithms only: a symmetric one (HS256) would let anyone holding the public key
#: sign tokens
ALLOWED_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
ROLE_NAMES = ("viewer", "operator", "admin")


@dataclass(frozen=True)
class AuthSettings:
    """Who may call the API and how a credential is checked (see README, "Access control").

    Token checks need ``issuer`` and at least one of ``audiences`` / ``client_ids``; without an
    issuer, user routes answer 503 to any token (API keys still work). Times are seconds.
    """
    stage: str
    #: ``realm`` in WWW-Authenticate
    realm: str
    #: expected ``iss``; e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>
    issuer: str | None
    #: OIDC discovery document; default ``<issuer>/.well-known/openid-configuration``
    discovery_url: str | None
    #: accepted ``aud`` values (ID tokens, generic OIDC access tokens)
    audiences: tuple[str, ...]
    #: Cognito app client ids: ``client_id`` of access tokens, ``aud`` of ID tokens
    client_ids: tuple[str, ...]
    #: required ``token_use`` values (Cognito: "access" and/or "id"); empty: no such claim checked
    token_uses: tuple[str, ...]
    algorithms: tuple[str, ...]
    #: the claim listing the user's groups (a list, or a space/comma separated string)
    groups_claim: str
    #: (group, role) pairs beyond the built-in "a group named like a role grants it"
    group_roles: tuple[tuple[str, str], ...]
    #: role of a signed-in user in no known group; None: such users may do nothing
    default_role: str | None
    #: tolerated clock skew for ``exp``/``nbf``/``iat``
    leeway_s: int
    jwks_timeout_s: float
    #: JWKS kept this long before a routine refresh
    jwks_max_age_s: int
    #: at most one JWKS fetch per this many seconds for unknown ``kid``s (refresh rate limit)
    jwks_min_refresh_s: int
    #: how long a process trusts its cached copy of an API key: the revocation bound
    api_key_cache_ttl_s: int
    #: ingest requests allowed per API key per window: (requests, window seconds)
    ingest_rate: tuple[int, int]
    #: browser origins allowed by CORS (the SPA's), exact ``scheme://host[:port]``
    cors_origins: tuple[str, ...]
    #: redirect URIs the dev issuer accepts for the SPA client (exact match)
    redirect_uris: tuple[str, ...]
    #: the local OIDC issuer's routes are registered (dev stage only, never on Lambda)
    dev_issuer: bool
    #: where local secrets live (dev signing key, local API keys), mode 0700/0600
    data_dir: str


def _csv(name: str, default: str = "") -> tuple[str, ...]:
    return tuple(p.strip() for p in os.environ.get(name, default).split(",") if p.strip())


def _is_loopback_http(url: str) -> bool:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")


def _secure_url(name: str, url: str) -> str:
    if not (url.startswith("https://") or _is_loopback_http(url)):
        raise ConfigError(f"{name}={url!r} must be https:// (plain http only on loopback)")
    return url.rstrip("/")


def _origin(name: str, origin: str) -> str:
    from urllib.parse import urlsplit
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
            or parts.query or parts.fragment or "*" in origin:
        raise ConfigError(f"{name}: {origin!r} is not an origin like https://app.example.com")
    return f"{parts.scheme}://{parts.netloc}"


def _rate(name: str, default: str) -> tuple[int, int]:
    raw = os.environ.get(name, default).strip().replace(" ", "")
    count, _, unit = raw.partition("/")
    windows = {"s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60}
    if not count.isdigit() or unit not in windows or int(count) < 1:
        raise ConfigError(f"{name}={raw!r}: use <requests>/s or <requests>/min, e.g. 20/s")
    requests, window = int(count), windows[unit]
    # One counter item per key per window: keep it under ~100 writes/s (the design's hot-item bound).
    if requests / window > 100:
        raise ConfigError(f"{name}={raw!r}: at most 100 requests a second per key")
    return requests, window


def _data_dir(store: str) -> str:
    if os.environ.get("DATA_DIR"):
        return os.environ["DATA_DIR"]
    path = store[len("sqlite:"):] if store.startswith("sqlite:") else ""
    if path and path != ":memory:":
        return os.path.dirname(os.path.abspath(path))
    return os.path.abspath(".data")


#: what a deployed (non-dev) stage cannot run without, and where each value comes from
STACK_SETTINGS = {
    name: f"the prod stack sets it from {source} (infrastructure/merge-template.json, `make deploy`); "
          "with `chalice deploy` alone, add it to the stage's environment_variables in .chalice/config.json"
    for name, source in (("AUTH_ISSUER", "its Cognito user pool"), ("AUTH_CLIENT_ID", "its Cognito app client"),
                         ("TABLE_PREFIX", "the stack name"))
}


@functools.cache
def auth_settings() -> AuthSettings:
    stage = os.environ.get("STAGE", "dev")
    for name in ("AUTH_ISSUER", "AUTH_CLIENT_ID", "AUTH_AUDIENCE", "CORS_ORIGINS"):
        if "REPLACE-WITH" in os.environ.get(name, ""):
            # A stage deployed before its user pool was named must not run half-configured.
            raise ConfigError(f"{name} still holds the placeholder from .chalice/config.json; "
                              "set the stage's real value (see README, Access control)")
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and stage != "dev":
        for name, source in STACK_SETTINGS.items():
            if not os.environ.get(name, "").strip():
                raise ConfigError(f"{name} is not set: {source}")
    issuer = os.environ.get("AUTH_ISSUER", "").strip() or None
    if issuer:
        issuer = _secure_url("AUTH_ISSUER", issuer)
    discovery = os.environ.get("AUTH_DISCOVERY_URL", "").strip() or None
    if discovery:
        discovery = _secure_url("AUTH_DISCOVERY_URL", discovery)
    audiences, client_ids = _csv("AUTH_AUDIENCE"), _csv("AUTH_CLIENT_ID")
    token_uses = _csv("AUTH_TOKEN_USE")
    if set(token_uses) - {"id", "access"}:
        raise ConfigError(f"AUTH_TOKEN_USE={','.join(token_uses)!r}: use id, access or both")
    if "access" in token_uses and not client_ids:
        raise ConfigError("AUTH_TOKEN_USE=access needs AUTH_CLIENT_ID (the Cognito app client id)")
    if issuer and not (audiences or client_ids):
        raise ConfigError("AUTH_ISSUER needs AUTH_AUDIENCE or AUTH_CLIENT_ID: a token for another "
                          "application of the same issuer must not open this one")
    algorithms = _csv("AUTH_ALGORITHMS", "RS256,ES256")
    if not algorithms or set(algorithms) - set(ALLOWED_TOKEN_ALGORITHMS):
        raise ConfigError(f"AUTH_ALGORITHMS: choose from {', '.join(ALLOWED_TOKEN_ALGORITHMS)}")
    group_roles = []
    for pair in _csv("AUTH_GROUP_ROLES"):
        group, _, role = pair.partition("=")
        if not group or role not in ROLE_NAMES:
            raise ConfigError(f"AUTH_GROUP_ROLES: {pair!r} is not group=viewer|operator|admin")
        group_roles.append((group, role))
    default_role = os.environ.get("AUTH_DEFAULT_ROLE", "viewer").strip()
    if default_role not in (*ROLE_NAMES, "none"):
        raise ConfigError(f"AUTH_DEFAULT_ROLE={default_role!r}: use viewer, operator, admin or none")
    dev_issuer = os.environ.get("DEV_ISSUER", "") == "1"
    if dev_issuer and (stage != "dev" or os.environ.get("AWS_LAMBDA_FUNCTION_NAME")):
        # The dev issuer signs tokens for anyone who clicks: it must never serve a real stage.
        raise ConfigError("DEV_ISSUER=1 is allowed only in the dev stage of the local runtime")
    cors = tuple(_origin("CORS_ORIGINS", o) for o in _csv("CORS_ORIGINS"))
    redirect_uris = _csv("AUTH_REDIRECT_URIS") or tuple(f"{o}/" for o in cors)
    return AuthSettings(
        stage=stage,
        realm=os.environ.get("AUTH_REALM", "mission-control"),
        issuer=issuer,
        discovery_url=discovery,
        audiences=audiences,
        client_ids=client_ids,
        token_uses=token_uses,
        algorithms=algorithms,
        groups_claim=os.environ.get("AUTH_GROUPS_CLAIM", "cognito:groups"),
        group_roles=tuple(group_roles),
        default_role=None if default_role == "none" else default_role,
        leeway_s=_int("AUTH_LEEWAY_S", 30, 0, 300),
        jwks_timeout_s=_int("AUTH_JWKS_TIMEOUT_MS", 2000, 100, 10_000) / 1000,
        jwks_max_age_s=_int("AUTH_JWKS_MAX_AGE_S", 3600, 60, 86_400),
        jwks_min_refresh_s=_int("AUTH_JWKS_MIN_REFRESH_S", 30, 1, 3600),
        api_key_cache_ttl_s=_int("API_KEY_CACHE_TTL_S", 5, 1, 60),
        ingest_rate=_rate("INGEST_RATE_PER_KEY", "50/s"),
        cors_origins=cors,
        redirect_uris=redirect_uris,
        dev_issuer=dev_issuer,
        data_dir=_data_dir(os.environ.get("STORE", "sqlite:.data/mission-control.db")),
    )
