"""Pure access-control logic: roles, API key format and cache, the rate window, the signing-key
cache (with a scripted fetcher and clock), and the settings that must refuse unsafe values."""
from __future__ import annotations

import hmac
import sys

import pytest

from chalicelib.auth.api_keys import ApiKeyCache, key_id_of, new_api_key
from chalicelib.auth.rate_limit import RateLimit
from chalicelib.auth.roles import Role, groups_in_claim, role_for_groups


# -- roles -------------------------------------------------------------------------------------
def test_the_highest_granted_role_wins_and_the_default_covers_no_group():
    assert role_for_groups(["viewer", "admin"], {}, Role.VIEWER) is Role.ADMIN
    assert role_for_groups(["ops-team"], {"ops-team": Role.OPERATOR}, None) is Role.OPERATOR
    assert role_for_groups(["marketing"], {}, Role.VIEWER) is Role.VIEWER
    assert role_for_groups([], {}, None) is None
    assert Role.VIEWER < Role.OPERATOR < Role.ADMIN


@pytest.mark.parametrize("claim, groups", [
    (["admin", "x"], ["admin", "x"]), ("admin ops", ["admin", "ops"]), ("admin,ops", ["admin", "ops"]),
    (None, []), (42, []), ([1, "viewer", None], ["viewer"]), ({"admin": True}, []),
])
def test_a_groups_claim_is_read_as_a_list_and_anything_else_is_no_groups(claim, groups):
    assert groups_in_claim(claim) == groups


# -- API keys ----------------------------------------------------------------------------------
def test_a_new_key_names_its_record_and_only_its_hash_is_kept():
    key, record = new_api_key(["ingest:business"], "shop", "admin-1", 1_795_000_000_000)
    assert key_id_of(key) == record.key_id
    assert key not in repr(record) and key.split("_", 2)[2] not in repr(record)
    assert record.matches(key) and not record.matches(key + "x")
    assert "keyHash" not in record.public(None) and "key_hash" not in record.public(None)
    other, _ = new_api_key(["ingest:business"], "shop", "admin-1", 1_795_000_000_000)
    assert other != key and key_id_of(other) != record.key_id  # unguessable, even in one millisecond


def test_keys_are_compared_in_constant_time(monkeypatch):
    key, record = new_api_key(["ingest:metrics"], "agent", "a", 1)
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr("chalicelib.auth.api_keys.hmac.compare_digest",
                        lambda a, b: calls.append(1) or real(a, b))
    assert record.matches(key)
    assert calls == [1]


@pytest.mark.parametrize("scopes", [[], ["ingest:everything"], ["admin"]])
def test_a_key_needs_known_scopes(scopes):
    with pytest.raises(ValueError):
        new_api_key(scopes, "x", "a", 1)


@pytest.mark.parametrize("presented", ["", "mck_", "mck__secret", "abc_def_ghi", "mck_a-b_secret",
                                       "mck_abc", "mck_" + "a" * 200 + "_s"])
def test_a_key_not_shaped_like_ours_names_no_record(presented):
    assert key_id_of(presented) is None


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_the_key_cache_reads_each_key_once_per_ttl_and_remembers_unknown_ones():
    key, record = new_api_key(["ingest:business"], "x", "a", 1)
    loads = []
    clock = Clock()
    cache = ApiKeyCache(lambda key_id: loads.append(key_id) or (record if key_id == record.key_id else None),
                        ttl_s=5, clock=clock)
    for _ in range(10):
        assert cache.verified(key) == record
        assert cache.verified("mck_0000deadbeef_nothing") is None
    assert len(loads) == 2
    clock.now += 5
    cache.verified(key)
    assert len(loads) == 3
    cache.forget(record.key_id)
    cache.verified(key)
    assert len(loads) == 4


def test_the_key_cache_is_bounded():
    cache = ApiKeyCache(lambda key_id: None, ttl_s=5, clock=Clock(), max_entries=3)
    for i in range(10):
        cache.verified(f"mck_{i:04x}_s")
    assert len(cache._entries) == 3


def test_last_used_is_due_once_per_interval_per_key():
    key, record = new_api_key(["ingest:business"], "x", "a", 1)
    clock = Clock()
    cache = ApiKeyCache(lambda key_id: record, ttl_s=5, clock=clock)
    cache.verified(key)
    assert [cache.due_for_last_used(record.key_id, 60) for _ in range(3)] == [True, False, False]
    clock.now += 60
    cache.verified(key)  # reloading the record keeps the note
    assert cache.due_for_last_used(record.key_id, 60)


# -- rate windows -------------------------------------------------------------------------------
def test_rate_windows_retry_after_and_counter_expiry():
    per_second, per_minute = RateLimit(20, 1), RateLimit(600, 60)
    assert per_second.window_start(100.7) == 100 and per_second.retry_after_s(100.7) == 1
    assert per_minute.window_start(130.0) == 120 and per_minute.retry_after_s(130.0) == 50
    assert per_minute.counter_ttl(130.0) == 120 + 60 + 60


# -- signing keys ---------------------------------------------------------------------------------
ISSUER = "https://issuer.example.com"


@pytest.fixture(scope="module")
def jwk():
    from cryptography.hazmat.primitives.asymmetric import rsa

    from chalicelib.local.dev_issuer import DevIssuer
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return DevIssuer(ISSUER, key).jwks()["keys"][0]


class ScriptedIssuer:
    """fetch_json for SigningKeys: serves a discovery document and a JWKS, or fails."""

    def __init__(self, jwks, discovery=None):
        self.jwks = jwks
        self.discovery = discovery or {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks.json"}
        self.down = False
        self.calls: list[str] = []

    def __call__(self, url, timeout_s):
        from chalicelib.auth.signing_keys import SigningKeysUnavailable
        self.calls.append(url)
        if self.down:
            raise SigningKeysUnavailable("down")
        return self.discovery if url.endswith("openid-configuration") else self.jwks


def keys_for(fetch, clock):
    from chalicelib.auth.signing_keys import SigningKeys
    return SigningKeys(ISSUER, ("RS256", "ES256"), fetch_json=fetch, clock=clock, max_age_s=3600,
                       min_refresh_s=30)


def test_keys_are_fetched_once_and_kept_until_they_age(jwk):
    fetch, clock = ScriptedIssuer({"keys": [jwk]}), Clock()
    keys = keys_for(fetch, clock)
    for _ in range(50):
        assert keys.key_for(jwk["kid"]) is not None
    assert len(fetch.calls) == 2  # discovery + JWKS
    clock.now += 3600
    keys.key_for(jwk["kid"])
    assert len(fetch.calls) == 3  # the JWKS again; discovery is remembered


def test_a_failed_refresh_keeps_the_cached_keys(jwk):
    fetch, clock = ScriptedIssuer({"keys": [jwk]}), Clock()
    keys = keys_for(fetch, clock)
    keys.key_for(jwk["kid"])
    fetch.down = True
    clock.now += 4000
    assert keys.key_for(jwk["kid"]) is not None


def test_with_no_keys_yet_an_unreachable_issuer_is_retried_at_most_once_a_second(jwk):
    from chalicelib.auth.signing_keys import SigningKeysUnavailable
    fetch, clock = ScriptedIssuer({"keys": [jwk]}), Clock()
    fetch.down = True
    keys = keys_for(fetch, clock)
    for _ in range(5):
        with pytest.raises(SigningKeysUnavailable):
            keys.key_for(jwk["kid"])
    assert len(fetch.calls) == 1
    clock.now += 1
    fetch.down = False
    assert keys.key_for(jwk["kid"]) is not None


@pytest.mark.parametrize("discovery", [
    {"issuer": "https://another.example.com", "jwks_uri": f"{ISSUER}/jwks.json"},
    {"issuer": ISSUER, "jwks_uri": "http://issuer.example.com/jwks.json"},
    {"issuer": ISSUER},
])
def test_a_discovery_document_for_another_issuer_or_insecure_keys_is_refused(jwk, discovery):
    from chalicelib.auth.signing_keys import SigningKeysUnavailable
    keys = keys_for(ScriptedIssuer({"keys": [jwk]}, discovery), Clock())
    with pytest.raises(SigningKeysUnavailable):
        keys.key_for(jwk["kid"])


def test_only_signature_keys_of_allowed_kinds_are_kept(jwk):
    from cryptography.hazmat.primitives.asymmetric import rsa

    from chalicelib.local.dev_issuer import DevIssuer
    weak = DevIssuer(ISSUER, rsa.generate_private_key(public_exponent=65537, key_size=1024)).jwks()["keys"][0]
    jwks = {"keys": [
        jwk | {"kid": "encryption", "use": "enc"},
        {"kty": "oct", "kid": "symmetric", "k": "c2VjcmV0"},
        weak | {"kid": "weak"},
        jwk | {"kid": "ps512", "alg": "PS512"},
        {"kid": "broken", "kty": "RSA", "n": "@@", "e": "AQAB"},
        "not a key",
        jwk,
    ]}
    keys = keys_for(ScriptedIssuer(jwks), Clock())
    assert keys.key_for(jwk["kid"]) is not None
    for kid in ("encryption", "symmetric", "weak", "ps512", "broken"):
        assert keys.key_for(kid) is None


def test_importing_the_auth_package_loads_no_crypto():
    """Requests with no token (health, ingest with a key) never pay for PyJWT/cryptography."""
    import subprocess
    code = ("import sys, app, chalicelib.auth.gate, chalicelib.auth.middleware; "
            "print(any(m == 'jwt' or m.startswith('cryptography') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"STORE": "sqlite::memory:", "PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "False", done.stderr


# -- settings -----------------------------------------------------------------------------------
@pytest.fixture
def env(monkeypatch):
    from chalicelib.config import auth_settings
    for name in ("AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_CLIENT_ID", "AUTH_TOKEN_USE", "AUTH_ALGORITHMS",
                 "DEV_ISSUER", "CORS_ORIGINS", "INGEST_RATE_PER_KEY", "AUTH_GROUP_ROLES", "STAGE",
                 "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    auth_settings.cache_clear()
    yield monkeypatch
    auth_settings.cache_clear()


@pytest.mark.parametrize("settings, words", [
    ({"AUTH_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/p", "AUTH_ALGORITHMS": "HS256",
      "AUTH_CLIENT_ID": "c"}, "AUTH_ALGORITHMS"),
    ({"AUTH_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/p"}, "AUTH_AUDIENCE or AUTH_CLIENT_ID"),
    ({"AUTH_ISSUER": "http://issuer.example.com", "AUTH_CLIENT_ID": "c"}, "https"),
    ({"AUTH_TOKEN_USE": "access"}, "AUTH_CLIENT_ID"),
    ({"AUTH_TOKEN_USE": "refresh", "AUTH_CLIENT_ID": "c"}, "AUTH_TOKEN_USE"),
    ({"INGEST_RATE_PER_KEY": "500/s"}, "at most 100"),
    ({"INGEST_RATE_PER_KEY": "lots"}, "INGEST_RATE_PER_KEY"),
    ({"CORS_ORIGINS": "https://spa.example.com/app"}, "CORS_ORIGINS"),
    ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS"),
    ({"AUTH_GROUP_ROLES": "ops=superuser"}, "AUTH_GROUP_ROLES"),
    ({"DEV_ISSUER": "1", "STAGE": "prod"}, "DEV_ISSUER"),
    ({"AUTH_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_REPLACE-WITH-POOL-ID",
      "AUTH_CLIENT_ID": "c"}, "placeholder"),
])
def test_unsafe_settings_are_refused_with_a_message_saying_which(env, settings, words):
    from chalicelib.config import ConfigError, auth_settings
    for name, value in settings.items():
        env.setenv(name, value)
    with pytest.raises(ConfigError, match=words):
        auth_settings()


def test_the_prod_stage_in_chalice_config_holds_no_placeholder_and_runs_with_the_stacks_values(env):
    import json
    from pathlib import Path

    from chalicelib.config import auth_settings
    text = (Path(__file__).resolve().parents[2] / ".chalice" / "config.json").read_text()
    assert "REPLACE-WITH" not in text
    for name, value in json.loads(text)["stages"]["prod"]["environment_variables"].items():
        env.setenv(name, value)
    # what infrastructure/merge-template.json sets from the stack
    env.setenv("AUTH_ISSUER", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc")
    env.setenv("AUTH_CLIENT_ID", "c1")
    env.setenv("AUTH_TOKEN_USE", "access")
    env.setenv("TABLE_PREFIX", "mission-control-")
    env.setenv("AWS_LAMBDA_FUNCTION_NAME", "mission-control-APIHandler-x")
    config = auth_settings()
    assert config.stage == "prod" and config.token_uses == ("access",) and config.client_ids == ("c1",)
    assert config.ingest_rate == (20, 1) and not config.dev_issuer


@pytest.mark.parametrize("missing", ["AUTH_ISSUER", "AUTH_CLIENT_ID", "TABLE_PREFIX"])
def test_a_deployed_stage_missing_a_stack_setting_names_it_and_where_it_comes_from(env, missing):
    from chalicelib.config import ConfigError, auth_settings
    for name, value in {"STAGE": "prod", "AWS_LAMBDA_FUNCTION_NAME": "fn", "AUTH_CLIENT_ID": "c1",
                        "AUTH_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/p",
                        "TABLE_PREFIX": "mc-"}.items():
        env.setenv(name, value)
    env.delenv(missing)
    with pytest.raises(ConfigError, match=f"{missing} is not set: the prod stack sets it from .*chalice deploy"):
        auth_settings()


def test_a_cognito_stage_configures_like_this(env):
    from chalicelib.config import auth_settings
    env.setenv("AUTH_ISSUER", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/")
    env.setenv("AUTH_CLIENT_ID", "client-1")
    env.setenv("AUTH_TOKEN_USE", "access")
    env.setenv("CORS_ORIGINS", "https://dashboard.example.com")
    env.setenv("INGEST_RATE_PER_KEY", "600/min")
    config = auth_settings()
    assert config.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert config.ingest_rate == (600, 60) and config.algorithms == ("RS256", "ES256")
    assert config.redirect_uris == ("https://dashboard.example.com/",)
    assert not config.dev_issuer


# -- verified tokens ------------------------------------------------------------------------------
def test_a_verified_token_is_reused_only_until_it_expires_or_a_minute_passes():
    from chalicelib.auth.tokens import VerifiedTokens
    cache = VerifiedTokens(leeway_s=30, max_age_s=60, max_entries=2)
    cache.put("short", {"exp": 1010}, now=1000)
    cache.put("long", {"exp": 9999}, now=1000)
    assert cache.get("short", 1039) == {"exp": 1010}  # exp + leeway, as the verification allowed
    assert cache.get("short", 1040) is None
    assert cache.get("long", 1059) is not None and cache.get("long", 1060) is None
    for i in range(3):
        cache.put(f"t{i}", {"exp": 9999}, now=1000)
    assert cache.get("t0", 1001) is None and cache.get("t2", 1001) is not None  # bounded, LRU
