"""Access control through chalice.test.Client: user tokens checked against the loopback
issuer's JWKS (over HTTP), API keys, roles, the ingest rate limit, CORS and security headers.

Tokens and keys are made here; the only network is loopback."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time

import pytest

JSON = {"content-type": "application/json"}
READ_ROUTES = ["/api/kpis", "/api/revenue", "/api/users", "/api/products", "/api/system-health",
               "/api/me", "/api/metrics?host=web-1&metric=cpu.percent", "/api/hosts"]
INGEST_ROUTES = ["/api/ingest/purchase", "/api/ingest/pageview", "/api/ingest/event"]


def bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


def purchase(i: int = 1) -> dict:
    return {"orderId": f"o-{i}", "productId": "p", "productName": "P", "amount": 100, "currency": "USD",
            "userId": f"u-{i}", "sessionId": f"s-{i}", "timestamp": int(time.time() * 1000) - 60_000}


def body_of(reply) -> dict:
    return json.loads(reply.body) if reply.body else {}


def orders(api) -> int:
    return body_of(api.http.get("/api/kpis?period=24h"))["orders"]["value"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned(header: dict, claims: dict) -> str:
    return b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())


def valid_claims(issuer, role="viewer", **changes) -> dict:
    now = int(time.time())
    claims = {"iss": issuer.url, "sub": f"demo-{role}", "token_use": "access",
              "client_id": "mission-control-tests", "cognito:groups": [role], "iat": now, "exp": now + 600}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture(scope="module")
def second_issuer(tmp_path_factory):
    """Another issuer with its own key: its tokens must never open this app."""
    from loopback_issuer import LoopbackIssuer
    other = LoopbackIssuer.start(tmp_path_factory.mktemp("second-issuer"))
    yield other
    other.stop()


@pytest.fixture
def client_with(sqlite_store, issuer, clock):
    """``client_with(**settings)``: the app on this test's store, its gate trusting ``issuer``
    with some settings changed (as another stage's config would); returns (client, gate)."""
    from chalice.test import Client

    from app import app
    from chalicelib.auth import AccessGate, repository, use_gate
    from chalicelib.storage import use_store
    opened = []

    def make(**overrides):
        gate = AccessGate(issuer.settings(**overrides), repository, clock=clock)
        use_gate(gate)
        use_store(sqlite_store)
        client = Client(app)
        opened.append(client.__enter__())
        return client, gate

    yield make
    for client in opened:
        client.__exit__(None, None, None)
    use_gate(None)
    use_store(None)


@pytest.fixture
def make_key(access_gate):
    def make(*scopes: str) -> str:
        return access_gate.create_key(list(scopes), "test key", "tests")[0]
    return make


# -- user tokens ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_a_valid_token_of_every_role_reads_every_read_route(anonymous_api, issuer, role):
    for path in READ_ROUTES:
        reply = anonymous_api.http.get(path, headers=bearer(issuer.token(role)))
        assert reply.status_code == 200, (path, reply.body)


def test_me_says_who_is_signed_in(anonymous_api, issuer):
    reply = anonymous_api.http.get("/api/me", headers=bearer(issuer.token("operator")))
    assert body_of(reply) == {"sub": "demo-operator", "name": "Omar Operator",
                              "email": "operator@demo.invalid", "role": "operator"}


def test_a_call_without_credentials_gets_401_with_a_bearer_challenge(anonymous_api):
    for path in READ_ROUTES:
        reply = anonymous_api.http.get(path)
        assert reply.status_code == 401, path
        assert reply.headers["WWW-Authenticate"] == 'Bearer realm="mission-control"'
        assert body_of(reply)["error"]["code"] == "unauthenticated"


def test_health_needs_no_credentials(anonymous_api):
    assert anonymous_api.http.get("/api/health").status_code == 200


def _bad_tokens(issuer, second_issuer) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    now = int(time.time())
    good = issuer.token("viewer")
    head, payload, signature = good.split(".")
    escalated = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    escalated["cognito:groups"] = ["admin"]
    public_pem = issuer.issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_header = {"alg": "HS256", "typ": "JWT", "kid": issuer.issuer.kid}
    hs_input = unsigned(hs_header, valid_claims(issuer, "admin"))
    hs_signature = b64url(hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest())
    middle = len(signature) // 2
    flipped = signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1:]
    return {
        "expired": issuer.sign(valid_claims(issuer, exp=now - 120, iat=now - 1000)),
        "not yet valid": issuer.sign(valid_claims(issuer, nbf=now + 300)),
        "issued in the future": issuer.sign(valid_claims(issuer, iat=now + 300, exp=now + 900)),
        "wrong issuer": issuer.sign(valid_claims(issuer, iss="https://evil.example.com")),
        "wrong client_id": issuer.sign(valid_claims(issuer, client_id="another-app")),
        "ID token for another audience": issuer.sign(valid_claims(
            issuer, token_use="id", client_id=None, aud="another-app")),
        "wrong token_use": issuer.sign(valid_claims(issuer, token_use="refresh")),
        "no token_use": issuer.sign(valid_claims(issuer, token_use=None)),
        "no exp": issuer.sign(valid_claims(issuer, exp=None)),
        "no sub": issuer.sign(valid_claims(issuer, sub=None)),
        "unknown kid": issuer.sign(valid_claims(issuer), key=second_issuer.issuer.private_key,
                                   kid="not-a-known-kid"),
        "tampered signature": f"{head}.{payload}.{flipped}",
        "tampered claims": f"{head}.{b64url(json.dumps(escalated).encode())}.{signature}",
        "alg none": unsigned({"alg": "none", "typ": "JWT", "kid": issuer.issuer.kid},
                             valid_claims(issuer, "admin")) + ".",
        "HS256 signed with the RSA public key": f"{hs_input}.{hs_signature}",
        "second issuer, same kid": second_issuer.sign(valid_claims(issuer, "admin"),
                                                      kid=issuer.issuer.kid),
        "second issuer's own token": second_issuer.token("admin"),
        "not a JWT": "not-a-jwt",
        "huge": "a" * 9000 + ".b.c",
    }


#: each bad token and the reason the 401 gives for it (its error_description)
BAD_TOKENS = {
    "expired": "has expired", "not yet valid": "not valid yet", "issued in the future": "not valid yet",
    "wrong issuer": "another issuer", "wrong client_id": "another client",
    "ID token for another audience": "another audience", "wrong token_use": "token_use",
    "no token_use": "token_use", "no exp": "no exp claim", "no sub": "no sub claim",
    "unknown kid": "signing key is not the issuer's", "tampered signature": "signature does not verify",
    "tampered claims": "signature does not verify", "alg none": "algorithm is not accepted",
    "HS256 signed with the RSA public key": "algorithm is not accepted",
    "second issuer, same kid": "signature does not verify",
    "second issuer's own token": "signing key is not the issuer's",
    "not a JWT": "not a JWT", "huge": "not a JWT",
}


@pytest.mark.parametrize("name", BAD_TOKENS)
def test_a_bad_token_gets_401_invalid_token_and_nothing_else_happens(
        anonymous_api, issuer, second_issuer, sqlite_store, name):
    token = _bad_tokens(issuer, second_issuer)[name]
    before = sqlite_store.request_count
    for method, path, body in [("GET", "/api/kpis", b""), ("POST", "/api/keys",
                                                             json.dumps({"scopes": ["ingest:business"],
                                                                         "name": "x"}))]:
        reply = anonymous_api.http.request(method, path, headers={**JSON, **bearer(token)}, body=body)
        assert reply.status_code == 401, (name, reply.body)
        challenge = reply.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="mission-control", error="invalid_token"'), challenge
        assert BAD_TOKENS[name] in challenge, challenge
        assert token not in reply.body.decode()
    assert sqlite_store.request_count == before  # no key created, nothing read or written
    assert sqlite_store.get("auth", "apikey", "x") is None


def test_a_token_within_the_leeway_is_still_accepted(anonymous_api, issuer):
    now = int(time.time())
    token = issuer.sign(valid_claims(issuer, exp=now - 5, iat=now - 600))
    assert anonymous_api.http.get("/api/kpis", headers=bearer(token)).status_code == 200


def test_a_generic_oidc_issuer_is_checked_by_audience(client_with, issuer):
    """Google / Okta: no token_use; the audience must be ours."""
    client, _gate = client_with(token_uses=(), client_ids=(), audiences=("api://mission-control",))
    ours = issuer.sign(valid_claims(issuer, token_use=None, client_id=None, aud="api://mission-control"))
    theirs = issuer.sign(valid_claims(issuer, token_use=None, client_id=None, aud="api://other"))
    assert client.http.get("/api/kpis", headers=bearer(ours)).status_code == 200
    assert client.http.get("/api/kpis", headers=bearer(theirs)).status_code == 401


def test_groups_map_to_roles_with_a_default_for_users_in_no_group(anonymous_api, issuer, access_gate):
    nobody = issuer.sign(valid_claims(issuer, **{"cognito:groups": None}))
    assert body_of(anonymous_api.http.get("/api/me", headers=bearer(nobody)))["role"] == "viewer"
    both = issuer.sign(valid_claims(issuer, **{"cognito:groups": ["viewer", "admin", "unrelated"]}))
    assert body_of(anonymous_api.http.get("/api/me", headers=bearer(both)))["role"] == "admin"


def test_a_user_without_a_role_may_do_nothing_when_there_is_no_default(client_with, issuer):
    client, _gate = client_with(default_role=None, group_roles=(("ops-team", "operator"),))
    nobody = issuer.sign(valid_claims(issuer, **{"cognito:groups": ["marketing"]}))
    reply = client.http.get("/api/kpis", headers=bearer(nobody))
    assert reply.status_code == 403
    assert body_of(reply)["error"]["details"][0] == {"field": "role", "required": "viewer", "current": None}
    ops = issuer.sign(valid_claims(issuer, **{"cognito:groups": "ops-team"}))
    assert body_of(client.http.get("/api/me", headers=bearer(ops)))["role"] == "operator"


# -- roles -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_a_non_admin_creating_a_key_gets_403_naming_admin_and_nothing_changes(anonymous_api, issuer,
                                                                              sqlite_store, role):
    before = sqlite_store.query("auth", "apikey").items
    reply = anonymous_api.http.post("/api/keys", headers={**JSON, **bearer(issuer.token(role))},
                                    body=json.dumps({"scopes": ["ingest:business"], "name": "sneaky"}))
    assert reply.status_code == 403
    error = body_of(reply)["error"]
    assert error["code"] == "forbidden" and "admin role" in error["message"]
    assert error["details"] == [{"field": "role", "required": "admin", "current": role}]
    assert 'error="insufficient_scope"' in reply.headers["WWW-Authenticate"]
    assert sqlite_store.query("auth", "apikey").items == before == []


def test_viewers_cannot_list_or_revoke_keys(anonymous_api, issuer, make_key, sqlite_store):
    make_key("ingest:business")
    key_id = sqlite_store.query("auth", "apikey").items[0]["sk"]
    viewer = bearer(issuer.token("viewer"))
    assert anonymous_api.http.get("/api/keys", headers=viewer).status_code == 403
    assert anonymous_api.http.delete(f"/api/keys/{key_id}", headers=viewer).status_code == 403
    assert sqlite_store.get("auth", "apikey", key_id)["revokedAt"] is None


def _mini_app(routes):
    """A tiny app wired like app.py (edge, access check), for rules no product route uses yet."""
    from chalice import Chalice

    from chalicelib.auth import gate
    from chalicelib.auth.middleware import access_check
    from chalicelib.web import add_preflight_routes, http_edge
    app = Chalice(app_name="access-test")
    routes(app)
    app.register_middleware(http_edge(app, lambda: gate().config), "http")
    app.register_middleware(access_check(app), "http")
    add_preflight_routes(app)
    return app


def test_an_operator_action_refuses_viewers_and_admits_operators_and_admins(access_gate, issuer):
    from chalice.test import Client

    from chalicelib.auth import access, current_principal
    calls = []

    def routes(app):
        @app.route("/api/incidents/{incident_id}/ack", methods=["POST"])
        @access.role("operator")
        def acknowledge(incident_id):
            calls.append((incident_id, current_principal().subject))
            return {"acknowledged": incident_id}

    with Client(_mini_app(routes)) as client:
        viewer = client.http.post("/api/incidents/i-1/ack", headers=bearer(issuer.token("viewer")))
        assert viewer.status_code == 403 and "operator role" in body_of(viewer)["error"]["message"]
        assert calls == []
        for role in ("operator", "admin"):
            reply = client.http.post("/api/incidents/i-1/ack", headers=bearer(issuer.token(role)))
            assert reply.status_code == 200
    assert calls == [("i-1", "demo-operator"), ("i-1", "demo-admin")]


def test_a_route_that_declares_nothing_needs_a_viewer_to_read_and_an_admin_to_write(access_gate, issuer):
    from chalice.test import Client

    from chalicelib.auth.middleware import undeclared_routes

    def routes(app):
        @app.route("/api/thing", methods=["GET", "POST"])
        def thing():
            return {"ok": True}

    app = _mini_app(routes)
    assert undeclared_routes(app) == [("GET", "/api/thing"), ("POST", "/api/thing")]
    with Client(app) as client:
        assert client.http.get("/api/thing").status_code == 401
        assert client.http.get("/api/thing", headers=bearer(issuer.token("viewer"))).status_code == 200
        assert client.http.post("/api/thing", headers=bearer(issuer.token("operator"))).status_code == 403
        assert client.http.post("/api/thing", headers=bearer(issuer.token("admin"))).status_code == 200


def test_a_signature_route_is_left_to_its_own_check(access_gate):
    from chalice.test import Client

    from chalicelib.auth import access

    def routes(app):
        @app.route("/webhooks/github", methods=["POST"])
        @access.signature("github")
        def github():
            return {"verified_by": "the view"}

    with Client(_mini_app(routes)) as client:
        assert client.http.post("/webhooks/github", headers=JSON, body="{}").status_code == 200


def test_every_product_route_declares_its_rule():
    from app import app
    from chalicelib.auth.access import rule_of
    declared = {(m, p): rule_of(e.view_function) for p, ms in app.routes.items() for m, e in ms.items()
                if m != "OPTIONS"}
    expected = {("GET", "/api/health"): "public", ("POST", "/api/ingest/purchase"): "api_key",
                ("GET", "/api/kpis"): "role", ("POST", "/api/keys"): "role",
                ("DELETE", "/api/keys/{key_id}"): "role", ("POST", "/api/metrics"): "api_key"}
    for route, kind in expected.items():
        assert declared[route] is not None and declared[route].kind == kind, route
    assert declared[("POST", "/api/keys")].role.label == "admin"
    assert declared[("POST", "/api/metrics")].scope == "ingest:metrics"
    assert not any(p.startswith("/auth") for _m, p in declared)  # no dev issuer outside the runner


# -- API keys --------------------------------------------------------------------------------
def test_an_api_key_opens_its_ingest_routes_only(anonymous_api, make_key, issuer):
    key = make_key("ingest:business")
    reply = anonymous_api.http.post("/api/ingest/purchase", headers={**JSON, "x-api-key": key},
                                    body=json.dumps(purchase()))
    assert reply.status_code == 200, reply.body
    for path in READ_ROUTES:
        refused = anonymous_api.http.get(path, headers={"x-api-key": key})
        assert refused.status_code == 401, path
        assert "API keys open only ingest routes" in body_of(refused)["error"]["message"]


def test_a_user_token_never_opens_an_ingest_route(anonymous_api, issuer, sqlite_store):
    before = sqlite_store.request_count
    for path in INGEST_ROUTES + ["/api/metrics"]:
        reply = anonymous_api.http.post(path, headers={**JSON, **bearer(issuer.token("admin"))},
                                        body=json.dumps(purchase()))
        assert reply.status_code == 401, path
        assert reply.headers["WWW-Authenticate"].startswith("ApiKey")
        assert "user tokens do not open ingest routes" in body_of(reply)["error"]["message"]
    assert sqlite_store.request_count == before


def test_a_key_of_one_scope_cannot_ingest_into_another(api, anonymous_api, make_key, sqlite_store):
    metrics_key = make_key("ingest:metrics")
    reply = anonymous_api.http.post("/api/ingest/purchase", headers={**JSON, "x-api-key": metrics_key},
                                    body=json.dumps(purchase()))
    assert reply.status_code == 403
    assert body_of(reply)["error"]["details"] == [{"field": "scope", "required": "ingest:business"}]
    business_key = make_key("ingest:business")
    sample = [{"host": "h", "metric": "cpu.percent", "value": 1.0, "timestamp": int(time.time() * 1000)}]
    reply = anonymous_api.http.post("/api/metrics", headers={**JSON, "x-api-key": business_key},
                                    body=json.dumps(sample))
    assert reply.status_code == 403
    assert orders(api) == 0
    assert body_of(api.http.get("/api/hosts"))["hosts"] == []


@pytest.mark.parametrize("presented", ["", "nonsense", "mck_", "mck_abc", "mck_zz_secret",
                                       "mck_0123456789abcdef_wrongsecret"])
def test_an_unknown_or_malformed_key_gets_401_and_writes_nothing(anonymous_api, presented, sqlite_store):
    before = sqlite_store.query("auth", "apikey").items
    reply = anonymous_api.http.post("/api/ingest/purchase", headers={**JSON, "x-api-key": presented},
                                    body=json.dumps(purchase()))
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"].startswith('ApiKey realm="mission-control"')
    assert sqlite_store.get("events", "purchase#o-1", "e") is None
    assert sqlite_store.query("auth", "apikey").items == before


def test_a_key_with_a_right_id_but_wrong_secret_is_refused(anonymous_api, make_key):
    key = make_key("ingest:business")
    forged = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    reply = anonymous_api.http.post("/api/ingest/purchase", headers={**JSON, "x-api-key": forged},
                                    body=json.dumps(purchase()))
    assert reply.status_code == 401


def test_a_revoked_key_stops_working_within_the_cache_ttl_everywhere(anonymous_api, make_key, issuer,
                                                                     access_gate, clock, sqlite_store):
    """Another process (its own gate and cache, the same store) revokes the key: this process
    refuses it once its cached copy is older than API_KEY_CACHE_TTL_S (5 s)."""
    from chalicelib.auth import AccessGate, repository
    key = make_key("ingest:business")
    send = lambda i: anonymous_api.http.post("/api/ingest/purchase", headers={**JSON, "x-api-key": key},
                                             body=json.dumps(purchase(i))).status_code
    assert send(1) == 200  # cached now
    key_id = sqlite_store.query("auth", "apikey").items[0]["sk"]
    elsewhere = AccessGate(access_gate.config, repository, clock=clock)
    elsewhere.revoke_key(key_id, "an admin elsewhere")
    assert access_gate.config.api_key_cache_ttl_s == 5
    clock.advance(4.9)
    assert send(2) == 200  # within the bound this process may still accept it
    clock.advance(0.2)
    assert send(3) == 401  # past the bound: refused
    assert sqlite_store.get("events", "purchase#o-3", "e") is None


def test_keys_are_created_listed_and_revoked_by_admins_and_shown_only_once(api, anonymous_api,
                                                                           sqlite_store, caplog):
    caplog.set_level(logging.DEBUG)
    created = api.http.post("/api/keys", headers=JSON,
                            body=json.dumps({"scopes": ["ingest:business"], "name": "shop backend"}))
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    made = body_of(created)
    key = made["key"]
    assert key.startswith("mck_") and made["scopes"] == ["ingest:business"] and made["revokedAt"] is None
    stored = sqlite_store.get("auth", "apikey", made["id"])
    assert stored["keyHash"] == hashlib.sha256(key.encode()).hexdigest() and key not in json.dumps(stored)

    ingest = anonymous_api.http.post("/api/ingest/purchase", headers={**JSON, "x-api-key": key},
                                     body=json.dumps(purchase()))
    assert ingest.status_code == 200
    listed = api.http.get("/api/keys")
    mine = [k for k in body_of(listed)["keys"] if k["id"] == made["id"]]
    assert mine and mine[0]["lastUsedAt"] is not None and "key" not in mine[0]
    revoked = api.http.delete(f"/api/keys/{made['id']}")
    assert revoked.status_code == 200 and body_of(revoked)["revokedAt"] is not None
    again = anonymous_api.http.post("/api/ingest/purchase", headers={**JSON, "x-api-key": key},
                                    body=json.dumps(purchase(2)))
    assert again.status_code == 401  # the revoking process forgets the key at once
    assert api.http.delete("/api/keys/nosuchkey").status_code == 404

    secret = key.split("_", 2)[2]
    for reply in (listed, revoked, again):
        assert secret not in reply.body.decode() and stored["keyHash"] not in reply.body.decode()
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert made["id"] in logged  # the audit trail names the key by id...
    assert secret not in logged and stored["keyHash"] not in logged  # ...never by its secret


def test_a_bad_key_request_gets_400(api, sqlite_store):
    for body in [{"scopes": ["admin:everything"], "name": "x"}, {"scopes": [], "name": "x"},
                 {"scopes": ["ingest:business"]}, {"scopes": ["ingest:business"], "name": "x", "extra": 1}]:
        reply = api.http.post("/api/keys", headers=JSON, body=json.dumps(body))
        assert reply.status_code == 400, body
    assert len(sqlite_store.query("auth", "apikey").items) == 1  # the api fixture's own key


def test_last_used_is_written_at_most_once_a_minute_per_key(anonymous_api, make_key, clock, sqlite_store):
    key = make_key("ingest:business")
    writes = []
    real_put = sqlite_store.put

    def watch(table, item, **kw):
        if item["pk"] == "apikey-used":
            writes.append(item["lastUsedAt"])
        return real_put(table, item, **kw)

    sqlite_store.put = watch
    try:
        for i in range(20):
            anonymous_api.http.post("/api/ingest/event", headers={**JSON, "x-api-key": key}, body=json.dumps(
                {"eventId": f"e{i}", "name": "n", "userId": "u", "timestamp": int(time.time() * 1000)}))
            clock.advance(2)  # 40 s in all
        assert len(writes) == 1
        clock.advance(25)
        anonymous_api.http.post("/api/ingest/event", headers={**JSON, "x-api-key": key}, body=json.dumps(
            {"eventId": "e-late", "name": "n", "userId": "u", "timestamp": int(time.time() * 1000)}))
        assert len(writes) == 2
    finally:
        sqlite_store.put = real_put


# -- ingest rate limit -----------------------------------------------------------------------
def test_ingest_over_the_key_rate_gets_429_with_retry_after_and_writes_nothing(
        client_with, sqlite_store, clock):
    client, gate = client_with(ingest_rate=(3, 60))
    key = gate.create_key(["ingest:business"], "t", "tests")[0]
    clock.now = 1_800_000_000.0 + 15  # 15 s into a minute window
    send = lambda i: client.http.post("/api/ingest/purchase", headers={**JSON, "x-api-key": key},
                                      body=json.dumps(purchase(i)))
    assert [send(i).status_code for i in range(3)] == [200, 200, 200]
    over = send(3)
    assert over.status_code == 429 and over.headers["Retry-After"] == "45"
    assert body_of(over)["error"]["code"] == "rate_limited"
    assert sqlite_store.get("events", "purchase#o-3", "e") is None
    counters = sqlite_store.query("auth", f"ingest-rate#{key.split('_')[1]}").items
    assert len(counters) == 1 and counters[0]["ttl"] == 1_800_000_000 + 60 + 60
    clock.advance(45)
    assert send(4).status_code == 200  # a new window


def test_a_request_refused_after_the_access_check_still_counts_against_the_keys_rate(
        client_with, sqlite_store, clock):
    """As README says: the key was good, so the request used up one of its rate, though its
    body was refused (400 bad JSON, 413 too large, 415 not JSON) and stored nothing."""
    client, gate = client_with(ingest_rate=(3, 60))
    key = gate.create_key(["ingest:business"], "t", "tests")[0]
    clock.now = 1_800_000_000.0 + 15
    headers = {**JSON, "x-api-key": key}
    refused = [client.http.post("/api/ingest/purchase", headers=headers, body="{not json"),
               client.http.post("/api/ingest/purchase", headers={**headers, "content-type": "text/plain"},
                                body=json.dumps(purchase(1)))]
    assert [r.status_code for r in refused] == [400, 415]
    assert client.http.post("/api/ingest/purchase", headers=headers, body=json.dumps(purchase(2))).status_code == 200
    over = client.http.post("/api/ingest/purchase", headers=headers, body=json.dumps(purchase(3)))
    assert over.status_code == 429
    assert sqlite_store.get("events", "purchase#o-1", "e") is None


def test_the_access_check_costs_one_store_write_per_ingest_request(anonymous_api, make_key, sqlite_store):
    key = make_key("ingest:business")
    headers = {**JSON, "x-api-key": key}
    anonymous_api.http.post("/api/ingest/event", headers=headers, body=json.dumps(
        {"eventId": "warm", "name": "n", "userId": "u", "timestamp": int(time.time() * 1000)}))
    calls = []
    for name in ("get", "get_many", "put", "put_versioned", "increment", "query", "transact"):
        real = getattr(sqlite_store, name)

        def spy(*a, _name=name, _real=real, **kw):
            calls.append((_name, a[0]))
            return _real(*a, **kw)
        setattr(sqlite_store, name, spy)
    anonymous_api.http.post("/api/ingest/event", headers=headers, body="{not json")  # the view refuses it
    assert [c for c in calls if c[1] == "auth"] == [("increment", "auth")]


# -- signing keys: cached, no network per request, refresh rate-limited ----------------------------
def test_the_jwks_is_fetched_once_not_per_request(anonymous_api, issuer, access_gate):
    before = issuer.jwks_fetches
    for _ in range(25):
        assert anonymous_api.http.get("/api/kpis", headers=bearer(issuer.token("viewer"))).status_code == 200
    assert issuer.jwks_fetches - before == 1
    assert access_gate.signing_keys.fetches == 1


def test_unknown_kids_refresh_the_jwks_at_most_once_per_interval(anonymous_api, issuer, second_issuer,
                                                                 access_gate, clock):
    assert anonymous_api.http.get("/api/kpis", headers=bearer(issuer.token())).status_code == 200
    before = issuer.jwks_fetches
    for i in range(10):
        forged = issuer.sign(valid_claims(issuer), key=second_issuer.issuer.private_key, kid=f"made-up-{i}")
        assert anonymous_api.http.get("/api/kpis", headers=bearer(forged)).status_code == 401
    assert issuer.jwks_fetches - before == 0  # the first fetch was just now: no refresh yet
    clock.advance(access_gate.config.jwks_min_refresh_s)
    for i in range(10):
        forged = issuer.sign(valid_claims(issuer), key=second_issuer.issuer.private_key, kid=f"again-{i}")
        assert anonymous_api.http.get("/api/kpis", headers=bearer(forged)).status_code == 401
    assert issuer.jwks_fetches - before == 1


def test_a_rotated_key_is_picked_up_when_a_token_names_it(anonymous_api, issuer, second_issuer,
                                                          access_gate, clock):
    assert anonymous_api.http.get("/api/kpis", headers=bearer(issuer.token())).status_code == 200
    rotated = second_issuer.issuer.jwks()["keys"][0] | {"kid": "rotated-key"}
    issuer.jwks_override = {"keys": [*issuer.issuer.jwks()["keys"], rotated]}
    try:
        clock.advance(access_gate.config.jwks_min_refresh_s)
        token = issuer.sign(valid_claims(issuer), key=second_issuer.issuer.private_key, kid="rotated-key")
        assert anonymous_api.http.get("/api/kpis", headers=bearer(token)).status_code == 200
    finally:
        issuer.jwks_override = None


def test_an_unreachable_issuer_answers_503_not_401_and_not_a_pass(client_with, issuer):
    dead = "http://127.0.0.1:9/auth"  # the discard port: nothing listens
    client, _gate = client_with(issuer=dead, jwks_timeout_s=0.5)
    token = issuer.sign(valid_claims(issuer, iss=dead))
    reply = client.http.get("/api/kpis", headers=bearer(token))
    assert reply.status_code == 503 and body_of(reply)["error"]["code"] == "auth_unavailable"


# -- the edge: CORS and security headers ---------------------------------------------------------
def test_every_answer_carries_the_security_headers(anonymous_api, issuer):
    for reply in (anonymous_api.http.get("/api/health"), anonymous_api.http.get("/api/kpis"),
                  anonymous_api.http.get("/api/kpis", headers=bearer(issuer.token()))):
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["X-Frame-Options"] == "DENY"
        assert reply.headers["Referrer-Policy"] == "no-referrer"
        assert reply.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert "Strict-Transport-Security" not in reply.headers  # dev stage: plain http on loopback


def test_prod_adds_hsts(client_with):
    client, _gate = client_with(stage="prod")
    assert client.http.get("/api/health").headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_cors_allows_only_the_configured_spa_origin(anonymous_api, issuer):
    spa, evil = "https://spa.example.com", "https://evil.example.com"
    ok = anonymous_api.http.get("/api/kpis", headers={"origin": spa, **bearer(issuer.token())})
    assert ok.headers["Access-Control-Allow-Origin"] == spa and "Origin" in ok.headers["Vary"]
    assert "WWW-Authenticate" in ok.headers["Access-Control-Expose-Headers"]
    refused = anonymous_api.http.get("/api/kpis", headers={"origin": evil})
    assert "Access-Control-Allow-Origin" not in refused.headers

    preflight = anonymous_api.http.options("/api/kpis", headers={
        "origin": spa, "access-control-request-method": "GET",
        "access-control-request-headers": "authorization"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == spa
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    for origin, method in [(evil, "GET"), (spa, "DELETE")]:
        denied = anonymous_api.http.options("/api/kpis", headers={
            "origin": origin, "access-control-request-method": method})
        assert denied.status_code == 403 and "Access-Control-Allow-Methods" not in denied.headers
        assert denied.headers.get("Access-Control-Allow-Origin") == (spa if origin == spa else None)


def test_an_html_page_gets_a_strict_policy_that_admits_only_its_own_inline_code():
    from chalicelib.web import html_content_security_policy
    page = ('<html><head><script>var theme = 1;</script><script type="module" src="./a.js"></script>'
            '</head><body><p style="padding: 24px">x</p></body></html>')
    policy = html_content_security_policy(page)
    script_hash = "'sha256-" + base64.b64encode(hashlib.sha256(b"var theme = 1;").digest()).decode() + "'"
    style_hash = "'sha256-" + base64.b64encode(hashlib.sha256(b"padding: 24px").digest()).decode() + "'"
    assert f"script-src 'self' {script_hash};" in policy
    assert f"style-src 'self' 'unsafe-hashes' {style_hash};" in policy
    for directive in ("default-src 'none'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
