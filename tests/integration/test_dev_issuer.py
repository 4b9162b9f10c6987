"""The dev stage's OIDC issuer: authorization code + PKCE (S256), single-use codes, refresh
token rotation, exact redirect URIs; its tokens checked by the app exactly as Cognito's (JWKS
over loopback HTTP). Also its key file, its refusal outside the dev stage, and missionctl."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import stat
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from chalice import Chalice

from tests.conftest import client_wired_like_app

SPA = "https://spa.example.com"
REDIRECT = f"{SPA}/"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def issuer_app(issuer, access_gate):
    """The dev issuer's routes and a who-am-I route in one app wired like app.py, signing with
    the loopback issuer's key, so the app validates what /auth/token hands out."""
    from chalicelib.auth import access, current_principal
    from chalicelib.local.dev_issuer import dev_issuer_routes
    config = issuer.settings(dev_issuer=True, data_dir=str(issuer.key_dir))
    app = Chalice(app_name="dev-issuer-test")
    app.register_blueprint(dev_issuer_routes(config))

    @app.route("/api/me")
    @access.role("viewer")
    def me():
        return {"role": current_principal().role.label}

    yield from client_wired_like_app(app)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def authorize_params(challenge: str, **changes) -> dict:
    params = {"response_type": "code", "client_id": "mission-control-tests", "redirect_uri": REDIRECT,
              "state": "s-123", "code_challenge": challenge, "code_challenge_method": "S256",
              "scope": "openid profile email", "nonce": "n-9"}
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


def sign_in(client, role: str, challenge: str) -> dict:
    reply = client.http.post("/auth/authorize", headers=FORM,
                             body=urlencode({**authorize_params(challenge), "user": role}))
    assert reply.status_code == 302, reply.body
    location = reply.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def token_request(client, **form):
    reply = client.http.post("/auth/token", headers=FORM, body=urlencode(form))
    return reply.status_code, json.loads(reply.body), reply.headers


def exchange(client, issued_code: str, verifier: str, **changes):
    form = {"grant_type": "authorization_code", "code": issued_code, "code_verifier": verifier,
            "client_id": "mission-control-tests", "redirect_uri": REDIRECT}
    form.update(changes)
    return token_request(client, **form)


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_discovery_and_jwks_are_public_and_name_this_issuer(issuer_app, issuer):
    discovery = json.loads(issuer_app.http.get("/auth/.well-known/openid-configuration").body)
    assert discovery["issuer"] == issuer.url
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["token_endpoint"] == f"{issuer.url}/token"
    jwks = json.loads(issuer_app.http.get("/auth/jwks.json").body)
    assert [k["kid"] for k in jwks["keys"]] == [issuer.issuer.kid]
    assert "d" not in jwks["keys"][0] and "p" not in jwks["keys"][0]  # public parts only


def test_the_sign_in_page_lists_a_demo_user_of_every_role(issuer_app):
    _verifier, challenge = pkce()
    reply = issuer_app.http.get("/auth/authorize?" + urlencode(authorize_params(challenge)))
    assert reply.status_code == 200
    page = reply.body.decode()
    for role in ("viewer", "operator", "admin"):
        assert f'name="user" value="{role}"' in page
    policy = reply.headers["Content-Security-Policy"]
    assert f"form-action 'self' {SPA}" in policy and "frame-ancestors 'none'" in policy
    assert "script-src 'self';" in policy  # the page runs no script at all
    assert reply.headers["X-Frame-Options"] == "DENY" and reply.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_code_flow_with_pkce_gives_tokens_the_app_accepts(issuer_app, role):
    verifier, challenge = pkce()
    answer = sign_in(issuer_app, role, challenge)
    assert answer["state"] == "s-123"
    status, tokens, headers = exchange(issuer_app, answer["code"], verifier)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    access, id_token = claims_of(tokens["access_token"]), claims_of(tokens["id_token"])
    assert access["exp"] - access["iat"] == 900 and access["token_use"] == "access"
    assert id_token["aud"] == "mission-control-tests" and id_token["nonce"] == "n-9"
    me = issuer_app.http.get("/api/me", headers={"authorization": f"Bearer {tokens['access_token']}"})
    assert json.loads(me.body)["role"] == role
    me_by_id_token = issuer_app.http.get("/api/me", headers={"authorization": f"Bearer {tokens['id_token']}"})
    assert me_by_id_token.status_code == 200


def test_a_code_works_once(issuer_app):
    verifier, challenge = pkce()
    code = sign_in(issuer_app, "admin", challenge)["code"]
    assert exchange(issuer_app, code, verifier)[0] == 200
    status, body, _ = exchange(issuer_app, code, verifier)
    assert (status, body["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize("changes", [
    {"code_verifier": "x" * 43},                                  # not the verifier of the challenge
    {"redirect_uri": f"{SPA}/other"},                            # not the redirect the code was for
    {"code": "made-up-code"},
])
def test_a_code_with_the_wrong_verifier_redirect_or_value_is_refused(issuer_app, changes):
    verifier, challenge = pkce()
    code = sign_in(issuer_app, "viewer", challenge)["code"]
    status, body, _ = exchange(issuer_app, code, verifier, **changes)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_a_stolen_code_is_useless_after_a_failed_try(issuer_app):
    """A wrong verifier still spends the code: the attacker's failed try leaves nothing to retry."""
    verifier, challenge = pkce()
    code = sign_in(issuer_app, "viewer", challenge)["code"]
    assert exchange(issuer_app, code, "y" * 43)[0] == 400
    assert exchange(issuer_app, code, verifier)[0] == 400


def test_an_unknown_client_is_refused_at_the_token_endpoint(issuer_app):
    verifier, challenge = pkce()
    code = sign_in(issuer_app, "viewer", challenge)["code"]
    status, body, headers = exchange(issuer_app, code, verifier, client_id="someone-else")
    assert (status, body["error"]) == (401, "invalid_client")
    # RFC 6749 5.2: a 401 says how to authenticate (RFC 7235: it must carry WWW-Authenticate).
    assert headers["WWW-Authenticate"].startswith('Basic realm="http://127.0.0.1:')
    assert 'error="invalid_client"' in headers["WWW-Authenticate"]


@pytest.mark.parametrize("redirect_uri", [f"{SPA}/evil", SPA, f"{SPA}/?next=x", "https://evil.example.com/",
                                          f"{SPA}.evil.com/", "http://spa.example.com/"])
def test_a_redirect_uri_must_match_exactly_and_is_never_followed_otherwise(issuer_app, redirect_uri):
    _verifier, challenge = pkce()
    for reply in (
        issuer_app.http.get("/auth/authorize?" + urlencode(
            authorize_params(challenge, redirect_uri=redirect_uri))),
        issuer_app.http.post("/auth/authorize", headers=FORM, body=urlencode(
            {**authorize_params(challenge, redirect_uri=redirect_uri), "user": "admin"})),
    ):
        assert reply.status_code == 400 and "Location" not in reply.headers


@pytest.mark.parametrize("changes, error", [
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),
    ({"code_challenge": None}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
])
def test_requests_without_s256_pkce_go_back_to_the_client_with_an_error(issuer_app, changes, error):
    _verifier, challenge = pkce()
    reply = issuer_app.http.get("/auth/authorize?" + urlencode(authorize_params(challenge, **changes)))
    assert reply.status_code == 302
    answer = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert answer["error"] == [error] and answer["state"] == ["s-123"] and "code" not in answer


def test_refresh_tokens_rotate_and_work_once(issuer_app):
    verifier, challenge = pkce()
    _s, first, _h = exchange(issuer_app, sign_in(issuer_app, "operator", challenge)["code"], verifier)
    status, second, _ = token_request(issuer_app, grant_type="refresh_token",
                                      refresh_token=first["refresh_token"], client_id="mission-control-tests")
    assert status == 200 and second["refresh_token"] != first["refresh_token"]
    assert claims_of(second["access_token"])["cognito:groups"] == ["operator"]
    status, body, _ = token_request(issuer_app, grant_type="refresh_token",
                                    refresh_token=first["refresh_token"], client_id="mission-control-tests")
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body, _ = token_request(issuer_app, grant_type="password", client_id="mission-control-tests")
    assert (status, body["error"]) == (400, "unsupported_grant_type")


# -- the sign-in session: a reload or a second tab does not ask again ----------------------------
def sign_in_with_session(client, role: str) -> tuple[str, str]:
    """Pick ``role`` on the page; returns (the session cookie's value, its Set-Cookie header)."""
    _verifier, challenge = pkce()
    reply = client.http.post("/auth/authorize", headers=FORM,
                             body=urlencode({**authorize_params(challenge), "user": role}))
    assert reply.status_code == 302
    set_cookie = reply.headers["Set-Cookie"]
    return set_cookie.split(";", 1)[0].split("=", 1)[1], set_cookie


def authorize_with(client, session: str | None, **changes):
    verifier, challenge = pkce()
    headers = {"cookie": f"mc_dev_session={session}"} if session is not None else {}
    reply = client.http.get("/auth/authorize?" + urlencode(authorize_params(challenge, **changes)),
                            headers=headers)
    return reply, verifier


def test_picking_a_user_starts_a_session_in_an_httponly_samesite_lax_cookie_on_the_issuer_path(issuer_app):
    session, set_cookie = sign_in_with_session(issuer_app, "operator")
    assert len(session) >= 43
    attributes = [a.strip() for a in set_cookie.split(";")[1:]]
    assert {"Path=/auth", "HttpOnly", "SameSite=Lax", "Max-Age=28800"} <= set(attributes)
    assert "Secure" not in attributes  # plain http on loopback; https issuers get Secure


@pytest.mark.parametrize("prompt", [None, "none"])
def test_with_a_session_an_authorization_request_returns_a_code_at_once(issuer_app, prompt):
    session, _ = sign_in_with_session(issuer_app, "operator")
    reply, verifier = authorize_with(issuer_app, session, prompt=prompt)
    assert reply.status_code == 302, reply.body  # no page: a reload or a second tab stays signed in
    answer = {k: v[0] for k, v in parse_qs(urlsplit(reply.headers["Location"]).query).items()}
    assert answer["state"] == "s-123" and "error" not in answer
    status, tokens, _ = exchange(issuer_app, answer["code"], verifier)
    assert status == 200 and claims_of(tokens["access_token"])["cognito:groups"] == ["operator"]


def test_prompt_none_without_a_session_answers_login_required_to_the_client(issuer_app):
    for session in (None, "forged-or-expired-session-id"):
        reply, _ = authorize_with(issuer_app, session, prompt="none")
        assert reply.status_code == 302
        answer = parse_qs(urlsplit(reply.headers["Location"]).query)
        assert answer["error"] == ["login_required"] and answer["state"] == ["s-123"] and "code" not in answer


def test_without_a_session_the_authorization_request_shows_the_page(issuer_app):
    reply, _ = authorize_with(issuer_app, "not-a-session")
    assert reply.status_code == 200 and 'name="user"' in reply.body.decode()


def test_prompt_login_shows_the_page_even_with_a_session(issuer_app):
    session, _ = sign_in_with_session(issuer_app, "viewer")
    reply, _ = authorize_with(issuer_app, session, prompt="login")
    assert reply.status_code == 200 and 'name="user"' in reply.body.decode()


def test_logout_ends_the_session_and_returns_to_the_registered_uri(issuer_app):
    session, _ = sign_in_with_session(issuer_app, "admin")
    reply = issuer_app.http.get("/auth/logout?" + urlencode({
        "client_id": "mission-control-tests", "post_logout_redirect_uri": REDIRECT}),
        headers={"cookie": f"mc_dev_session={session}"})
    assert reply.status_code == 302 and reply.headers["Location"] == REDIRECT
    assert reply.headers["Set-Cookie"].startswith("mc_dev_session=;") and "Max-Age=0" in reply.headers["Set-Cookie"]
    again, _ = authorize_with(issuer_app, session, prompt="none")  # the old cookie opens nothing
    assert parse_qs(urlsplit(again.headers["Location"]).query)["error"] == ["login_required"]


@pytest.mark.parametrize("params", [{"client_id": "mission-control-tests", "logout_uri": "https://evil.example.com/"},
                                    {"client_id": "someone-else", "logout_uri": REDIRECT}, {}])
def test_logout_never_redirects_to_an_unregistered_place(issuer_app, params):
    reply = issuer_app.http.get("/auth/logout?" + urlencode(params) if params else "/auth/logout")
    assert reply.status_code == 200 and "Location" not in reply.headers
    assert "signed out" in reply.body.decode() and "Max-Age=0" in reply.headers["Set-Cookie"]


def test_a_session_ends_when_it_expires(issuer, sqlite_store):
    from chalicelib.auth.repository import AccessRepository
    from chalicelib.local.dev_issuer import DEMO_USERS, SESSION_TTL_S, DevIssuer
    now = [1_800_000_000.0]
    dev = DevIssuer(issuer.url, issuer.issuer.private_key, clock=lambda: now[0])
    grants = AccessRepository(sqlite_store)
    session = dev.start_session(DEMO_USERS["viewer"], grants)
    assert dev.session_user(session, grants) == DEMO_USERS["viewer"]
    now[0] += SESSION_TTL_S
    assert dev.session_user(session, grants) is None


def test_discovery_names_the_logout_endpoint_and_the_prompts_it_knows(issuer_app, issuer):
    discovery = json.loads(issuer_app.http.get("/auth/.well-known/openid-configuration").body)
    assert discovery["end_session_endpoint"] == f"{issuer.url}/logout"
    assert discovery["prompt_values_supported"] == ["none", "login"]


def test_the_sign_in_page_opened_by_hand_says_how_to_get_a_token(issuer_app):
    reply = issuer_app.http.get("/auth/authorize")
    assert reply.status_code == 200 and "missionctl token --role viewer" in reply.body.decode()


# -- the signing key ---------------------------------------------------------------------------
def test_the_signing_key_is_made_once_private_to_its_owner_and_reused(tmp_path):
    from chalicelib.local.dev_issuer import KEY_FILE, DevIssuer
    first = DevIssuer.in_data_dir(tmp_path / "data", "http://127.0.0.1:1/auth")
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    os.chmod(path, 0o644)
    again = DevIssuer.in_data_dir(tmp_path / "data", "http://127.0.0.1:1/auth")
    assert again.kid == first.kid
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "data").iterdir()] == [KEY_FILE]  # no temporary left behind


def test_the_dev_issuer_cannot_be_switched_on_outside_the_dev_stage(monkeypatch, issuer):
    from chalicelib.config import ConfigError, auth_settings
    from chalicelib.local.dev_issuer import dev_issuer_routes
    with pytest.raises(RuntimeError):
        dev_issuer_routes(issuer.settings(dev_issuer=True, stage="prod"))
    with pytest.raises(RuntimeError):
        dev_issuer_routes(issuer.settings(dev_issuer=False))
    monkeypatch.setenv("DEV_ISSUER", "1")
    for stage, lambda_name in [("prod", None), ("dev", "mission-control-dev")]:
        monkeypatch.setenv("STAGE", stage)
        if lambda_name:
            monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", lambda_name)
        auth_settings.cache_clear()
        try:
            with pytest.raises(ConfigError, match="DEV_ISSUER"):
                auth_settings()
        finally:
            auth_settings.cache_clear()


# -- missionctl ----------------------------------------------------------------------------------
@pytest.fixture
def cli_gate(access_gate, issuer, sqlite_store, clock, tmp_path):
    """missionctl's gate, as `missionctl` builds it from the environment, on this test's store;
    its data dir holds the loopback issuer's key and says which issuer runs."""
    from chalicelib.auth import AccessGate, repository, use_gate
    from chalicelib.local.dev_issuer import write_issuer_file
    from chalicelib.storage import use_store
    write_issuer_file(issuer.key_dir, issuer.url, "mission-control-tests")
    gate = AccessGate(issuer.settings(data_dir=str(issuer.key_dir)), repository, clock=clock)
    use_store(sqlite_store)
    use_gate(gate)
    yield gate
    use_gate(None)
    use_store(None)


def test_missionctl_token_prints_a_token_the_app_accepts(cli_gate, capsys, anonymous_api):
    from chalicelib.cli import main
    assert main(["token", "--role", "operator"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.count(".") == 2 and token not in out.err
    me = anonymous_api.http.get("/api/me", headers={"authorization": f"Bearer {token}"})
    assert json.loads(me.body)["role"] == "operator"


def test_missionctl_token_never_mints_with_a_key_no_product_trusts(issuer, capsys, tmp_path):
    from chalicelib.auth import AccessGate, repository, use_gate
    from chalicelib.cli import main
    use_gate(AccessGate(issuer.settings(data_dir=str(tmp_path / "empty")), repository))
    try:
        assert main(["token", "--role", "viewer"]) == 1
        assert capsys.readouterr().out == "" and not (tmp_path / "empty").exists()
    finally:
        use_gate(None)


def test_missionctl_token_is_refused_outside_the_dev_stage(issuer, capsys):
    from chalicelib.auth import AccessGate, repository, use_gate
    from chalicelib.cli import main
    use_gate(AccessGate(issuer.settings(stage="prod"), repository))
    try:
        assert main(["token", "--role", "admin"]) == 2
        assert capsys.readouterr().out == ""
    finally:
        use_gate(None)


def test_missionctl_apikey_create_list_revoke(cli_gate, capsys, anonymous_api, caplog):
    from chalicelib.cli import main
    assert main(["apikey", "create", "--scope", "ingest:business", "--name", "shop"]) == 0
    created = capsys.readouterr()
    key = created.out.strip()
    assert key.startswith("mck_") and key not in created.err and key not in caplog.text
    send = lambda: anonymous_api.http.post("/api/ingest/event", headers={
        "content-type": "application/json", "x-api-key": key}, body=json.dumps(
        {"eventId": "e1", "name": "n", "userId": "u", "timestamp": 1_795_000_000_000})).status_code
    assert send() in (200, 400)  # the key opens the route (the event may be too old: 400 is the view's)
    assert main(["apikey", "list"]) == 0
    listing = capsys.readouterr().out
    key_id = key.split("_")[1]
    assert key_id in listing and "shop" in listing and key.split("_", 2)[2] not in listing
    assert main(["apikey", "revoke", key_id]) == 0
    assert send() == 401
    assert main(["apikey", "revoke", "nosuchkey"]) == 1
    assert main(["apikey", "create", "--scope", "admin:all"]) == 2


def test_the_local_runtime_key_is_kept_private_and_replaced_when_revoked(cli_gate, tmp_path):
    from chalicelib.auth.local_keys import KEYS_FILE, ensure_local_api_key
    first = ensure_local_api_key("ingest:business", str(tmp_path))
    assert stat.S_IMODE((tmp_path / KEYS_FILE).stat().st_mode) == 0o600
    assert ensure_local_api_key("ingest:business", str(tmp_path)) == first
    metrics = ensure_local_api_key("ingest:metrics", str(tmp_path))
    assert metrics != first and cli_gate.api_keys.verified(metrics).scopes == ("ingest:metrics",)
    cli_gate.revoke_key(first.split("_")[1], "tests")
    replaced = ensure_local_api_key("ingest:business", str(tmp_path))
    assert replaced != first and cli_gate.api_keys.verified(replaced) is not None
    assert json.loads((tmp_path / KEYS_FILE).read_text()) == {"ingest:business": replaced,
                                                               "ingest:metrics": metrics}
