"""The local static-site blueprint, on a tiny Chalice app through chalice.test.Client."""
from __future__ import annotations

import base64
import json
import os
import time

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.local import static_site as static_site_module
from chalicelib.local.static_site import static_site

INDEX = "<!doctype html><title>Mission Control</title><script type=module src=./assets/index-abc123.js></script>"
JS = "console.log('hello');\n"
CSS = "body{color:red}"
SVG = '<svg xmlns="http://www.w3.org/2000/svg"/>'
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
#: what config.json's "auth" object is written from
AUTH_SETTINGS = ("AUTH_ISSUER", "AUTH_CLIENT_ID", "DEV_ISSUER", "SPA_AUTH_CLIENT_ID", "SPA_AUTH_DOMAIN",
                 "SPA_AUTH_AUTHORIZE_URL", "SPA_AUTH_TOKEN_URL", "SPA_AUTH_LOGOUT_URL",
                 "SPA_AUTH_REVOKE_URL", "SPA_AUTH_SCOPES", "SPA_AUTH_REDIRECT_URI")


@pytest.fixture
def spa_dir(tmp_path, monkeypatch):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "favicon.svg").write_text(SVG)
    (dist / "config.json").write_text('{"apiBaseUrl": "from-the-build"}')
    (dist / "assets" / "index-abc123.js").write_text(JS)
    (dist / "assets" / "index-def456.css").write_text(CSS)
    (dist / "assets" / "logo-0a1b2c.png").write_bytes(PNG)
    (tmp_path / "secret.txt").write_text("outside the SPA")
    monkeypatch.setenv("SPA_DIR", str(dist))
    for name in ("SPA_API_BASE_URL", *AUTH_SETTINGS):
        monkeypatch.delenv(name, raising=False)
    return dist


@pytest.fixture
def app():
    app = Chalice(app_name="static-site-test")

    @app.route("/api/health")
    def health():
        return {"status": "ok"}

    app.register_blueprint(static_site)
    return app


@pytest.fixture
def client(app, spa_dir):
    with Client(app) as c:
        yield c


def get(client, path, **headers):
    return client.http.get(path, headers=headers)


def hdr(res, name):
    """A response header, whatever its case."""
    return {k.lower(): v for k, v in res.headers.items()}[name]


def error_of(res):
    body = json.loads(res.body)
    assert set(body) == {"error"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]["code"]


def test_index_is_served_with_no_cache(client):
    res = get(client, "/")
    assert res.status_code == 200
    assert res.body.decode() == INDEX
    assert hdr(res, "content-type") == "text/html; charset=utf-8"
    assert hdr(res, "cache-control") == "no-cache"
    assert hdr(res, "etag").startswith('"')


def test_index_answers_304_to_its_etag(client):
    etag = hdr(get(client, "/"), "etag")
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        res = get(client, "/", **{"If-None-Match": header})
        assert res.status_code == 304, header
        assert res.body in (b"", "")
        assert hdr(res, "etag") == etag
        assert hdr(res, "cache-control") == "no-cache"
    assert get(client, "/", **{"If-None-Match": '"stale"'}).status_code == 200


def test_assets_are_immutable_with_their_content_types(client):
    js = get(client, "/assets/index-abc123.js")
    assert js.status_code == 200
    assert js.body.decode() == JS
    assert hdr(js, "content-type") == "text/javascript; charset=utf-8"
    assert hdr(js, "cache-control") == "public, max-age=31536000, immutable"
    assert hdr(js, "x-content-type-options") == "nosniff"

    css = get(client, "/assets/index-def456.css")
    assert hdr(css, "content-type") == "text/css; charset=utf-8"
    assert css.body.decode() == CSS

    again = get(client, "/assets/index-abc123.js", **{"If-None-Match": hdr(js, "etag")})
    assert again.status_code == 304
    assert hdr(again, "cache-control") == "public, max-age=31536000, immutable"


def test_binary_assets_pass_through_as_bytes(client, app):
    res = get(client, "/assets/logo-0a1b2c.png", Accept="image/avif,image/webp,*/*")
    assert res.status_code == 200
    assert hdr(res, "content-type") == "image/png"
    body = res.body if isinstance(res.body, bytes) else res.body.encode()
    # The test client hands back what Lambda would: base64 for binary types.
    assert body == PNG or base64.b64decode(body) == PNG
    assert "image/png" in app.api.binary_types


def test_unknown_asset_is_a_json_404(client):
    res = get(client, "/assets/nope-123.js")
    assert res.status_code == 404
    assert hdr(res, "content-type") == "application/json"
    assert error_of(res) == "not_found"


@pytest.mark.parametrize("name", [
    "..", "...", "..%2Findex.html", "%2E%2E", ".env", ".hidden.js", "a..b.js", "a%2Fb.js",
    "a%5Cb.js", "index-abc123.exe",
])
def test_suspicious_asset_names_are_refused(client, name):
    res = get(client, f"/assets/{name}")
    assert res.status_code == 404
    assert error_of(res) == "not_found"


@pytest.mark.parametrize("name", ["..", ".", "", "a/b", "a\\b", ".git", "x..y", "nul\x00.js"])
def test_safe_name_rejects(name):
    assert not static_site_module._safe_name(name)


def test_safe_name_accepts_vite_names():
    assert static_site_module._safe_name("index-D4x_9-Az.js")
    assert static_site_module._safe_name("favicon.svg")


def test_symlinks_cannot_leave_the_spa_dir(client, spa_dir):
    os.symlink(spa_dir.parent / "secret.txt", spa_dir / "assets" / "leak.txt")
    res = get(client, "/assets/leak.txt")
    assert res.status_code == 404


def test_config_json_is_written_from_the_environment(client, monkeypatch):
    res = get(client, "/config.json")
    assert res.status_code == 200
    assert json.loads(res.body) == {"apiBaseUrl": ""}  # same origin, not the file in dist
    assert hdr(res, "cache-control") == "no-cache"
    assert hdr(res, "content-type") == "application/json"
    assert get(client, "/config.json", **{"If-None-Match": hdr(res, "etag")}).status_code == 304

    monkeypatch.setenv("SPA_API_BASE_URL", "https://api.example.com")
    res2 = get(client, "/config.json", **{"If-None-Match": hdr(res, "etag")})
    assert res2.status_code == 200
    assert json.loads(res2.body) == {"apiBaseUrl": "https://api.example.com"}


def config_json(client) -> dict:
    res = get(client, "/config.json")
    assert res.status_code == 200
    return json.loads(res.body)


def test_config_json_tells_the_spa_how_to_sign_in_with_the_local_issuer(client, monkeypatch):
    # As the local runner sets it up (runner.configure_sign_in).
    monkeypatch.setenv("AUTH_ISSUER", "http://127.0.0.1:8000/auth")
    monkeypatch.setenv("AUTH_CLIENT_ID", "mission-control-spa")
    monkeypatch.setenv("DEV_ISSUER", "1")
    assert config_json(client) == {"apiBaseUrl": "", "auth": {
        "clientId": "mission-control-spa", "issuer": "http://127.0.0.1:8000/auth",
        "authorizeUrl": "http://127.0.0.1:8000/auth/authorize", "tokenUrl": "http://127.0.0.1:8000/auth/token",
        "logoutUrl": "http://127.0.0.1:8000/auth/logout", "scopes": "openid profile email"}}


def test_the_local_issuers_endpoints_in_config_json_are_the_ones_it_publishes(client, monkeypatch, tmp_path):
    from chalicelib.local.dev_issuer import DevIssuer
    issuer = "http://127.0.0.1:8000/auth"
    monkeypatch.setenv("AUTH_ISSUER", issuer + "/")
    monkeypatch.setenv("AUTH_CLIENT_ID", "mission-control-spa")
    monkeypatch.setenv("DEV_ISSUER", "1")
    discovery = DevIssuer.in_data_dir(tmp_path / "keys", issuer).discovery()
    auth = config_json(client)["auth"]
    assert (auth["issuer"], auth["authorizeUrl"], auth["tokenUrl"], auth["logoutUrl"]) == (
        discovery["issuer"], discovery["authorization_endpoint"], discovery["token_endpoint"],
        discovery["end_session_endpoint"])


def test_config_json_gives_cognitos_hosted_ui_endpoints_from_its_domain(client, monkeypatch):
    pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    domain = "https://mission-control.auth.eu-west-1.amazoncognito.com"
    monkeypatch.setenv("AUTH_ISSUER", pool)
    monkeypatch.setenv("AUTH_CLIENT_ID", "1example23456789, another-client")
    monkeypatch.setenv("SPA_AUTH_DOMAIN", domain + "/")
    assert config_json(client)["auth"] == {
        "clientId": "1example23456789", "issuer": pool,
        "authorizeUrl": f"{domain}/oauth2/authorize", "tokenUrl": f"{domain}/oauth2/token",
        "revokeUrl": f"{domain}/oauth2/revoke", "logoutUrl": f"{domain}/logout",
        "scopes": "openid profile email"}


def test_config_json_auth_settings_can_each_be_overridden(client, monkeypatch):
    monkeypatch.setenv("AUTH_ISSUER", "https://id.example.com")
    monkeypatch.setenv("AUTH_CLIENT_ID", "api-audience")
    for name, value in {"SPA_AUTH_CLIENT_ID": "spa", "SPA_AUTH_AUTHORIZE_URL": "https://id.example.com/a",
                        "SPA_AUTH_TOKEN_URL": "https://id.example.com/t", "SPA_AUTH_LOGOUT_URL": "https://id.example.com/l",
                        "SPA_AUTH_SCOPES": "openid email", "SPA_AUTH_REDIRECT_URI": "https://mc.example.com/"}.items():
        monkeypatch.setenv(name, value)
    assert config_json(client)["auth"] == {
        "clientId": "spa", "issuer": "https://id.example.com", "authorizeUrl": "https://id.example.com/a",
        "tokenUrl": "https://id.example.com/t", "logoutUrl": "https://id.example.com/l",
        "redirectUri": "https://mc.example.com/", "scopes": "openid email"}


def test_config_json_without_a_client_id_has_no_auth_and_an_issuer_alone_means_discovery(client, monkeypatch):
    monkeypatch.setenv("AUTH_ISSUER", "https://id.example.com")
    assert "auth" not in config_json(client)  # the SPA says sign-in is not set up
    monkeypatch.setenv("AUTH_CLIENT_ID", "spa")
    assert config_json(client)["auth"] == {"clientId": "spa", "issuer": "https://id.example.com",
                                           "scopes": "openid profile email"}


def test_config_json_changes_its_etag_with_the_auth_settings(client, monkeypatch):
    monkeypatch.setenv("AUTH_CLIENT_ID", "spa")
    first = get(client, "/config.json")
    monkeypatch.setenv("SPA_AUTH_SCOPES", "openid")
    again = get(client, "/config.json", **{"If-None-Match": hdr(first, "etag")})
    assert again.status_code == 200 and json.loads(again.body)["auth"]["scopes"] == "openid"


def test_top_level_files_are_served_with_no_cache(client):
    res = get(client, "/favicon.svg")
    assert res.status_code == 200
    assert hdr(res, "content-type") == "image/svg+xml"
    assert hdr(res, "cache-control") == "no-cache"
    assert res.body.decode() == SVG
    assert get(client, "/index.html").body.decode() == INDEX


def test_favicon_ico_is_the_spas_icon_for_every_page_the_sign_in_page_too(client, spa_dir):
    res = get(client, "/favicon.ico")  # what a browser asks for by itself, on any page
    assert res.status_code == 200 and hdr(res, "content-type") == "image/svg+xml"
    assert res.body.decode() == SVG
    (spa_dir / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")  # a build that ships one: that one
    assert hdr(get(client, "/favicon.ico", Accept="image/x-icon"), "content-type") == "image/x-icon"


def test_the_sign_in_page_names_the_spas_icon(tmp_path):
    from chalicelib.local.dev_issuer import DevIssuer
    page = DevIssuer.in_data_dir(tmp_path / "keys", "http://127.0.0.1:8000/auth").sign_in_page(None)
    assert '<link rel="icon" href="http://127.0.0.1:8000/favicon.svg" type="image/svg+xml">' in page


def test_unknown_top_level_names_are_json_404s(client):
    for path in ("/robots.txt", "/.env", "/assets", "/nothing"):
        res = get(client, path)
        assert res.status_code == 404, path
        assert error_of(res) == "not_found"


def test_api_routes_still_win(client):
    res = get(client, "/api/health")
    assert json.loads(res.body) == {"status": "ok"}


def test_a_rebuild_is_picked_up_without_a_restart(client, spa_dir):
    first = get(client, "/")
    new = INDEX.replace("abc123", "zzz999")
    path = spa_dir / "index.html"
    path.write_text(new)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = get(client, "/", **{"If-None-Match": hdr(first, "etag")})
    assert second.status_code == 200
    assert second.body.decode() == new
    assert hdr(second, "etag") != hdr(first, "etag")


def test_files_are_read_once_per_process(client, spa_dir, monkeypatch):
    get(client, "/assets/index-abc123.js")
    reads = []
    real_open = open

    def counting_open(path, *args, **kwargs):
        reads.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    for _ in range(3):
        assert get(client, "/assets/index-abc123.js").status_code == 200
    assert not [p for p in reads if str(p).endswith("index-abc123.js")]


def test_missing_build_is_a_clear_503(app, tmp_path, monkeypatch):
    monkeypatch.setenv("SPA_DIR", str(tmp_path / "not-built"))
    with Client(app) as c:
        res = get(c, "/")
        assert res.status_code == 503
        assert error_of(res) == "spa_not_built"
        assert "npm run build" in json.loads(res.body)["error"]["message"]
    monkeypatch.delenv("SPA_DIR")
    with Client(app) as c:
        assert get(c, "/").status_code == 503
        assert get(c, "/assets/index-abc123.js").status_code == 503


def test_serving_is_fast_once_cached(client):
    # Not a benchmark: a sanity check that cached answers do not re-hash the file.
    get(client, "/assets/index-abc123.js")
    started = time.perf_counter()
    for _ in range(50):
        get(client, "/assets/index-abc123.js")
    assert time.perf_counter() - started < 5
