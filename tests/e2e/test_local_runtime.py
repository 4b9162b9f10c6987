"""The product started as `make run` starts it: a real local server and worker."""
import base64
import hashlib
import json
import secrets
import stat
import time
import urllib.error
import urllib.parse
import urllib.request


def test_purchases_sent_over_http_show_in_the_kpis(product):
    now = int(time.time() * 1000)
    purchases = [{"orderId": f"rt-{i}", "productId": "pro", "productName": "Pro plan", "amount": 2500,
                  "currency": "USD", "userId": f"u-{i}", "sessionId": f"s-{i}", "timestamp": now - i * 1000}
                 for i in range(12)]
    product.ingest_purchases(purchases)
    product.request("POST", "/api/ingest/purchase", purchases)  # redelivered: no change
    kpis = product.get("/api/kpis?period=24h")
    assert (kpis["revenue"]["value"], kpis["orders"]["value"]) == (30000, 12)
    assert product.get("/api/products?window=24h")["products"][0]["downloads"] == 12


def test_the_worker_runs_the_scheduled_jobs(product):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = {s["job"]: s for s in product.get("/api/system-health")["schedules"]}
        if {"aggregateStats", "dailyRollup"} <= set(runs):
            break
        time.sleep(0.5)
    assert runs["aggregateStats"]["outcome"] == "ok"
    assert runs["dailyRollup"]["outcome"] == "ok"


def test_bad_input_over_http_gets_a_json_400(product):
    status, body = product.request("POST", "/api/ingest/purchase", {"orderId": "x"})
    assert status == 400 and body["error"]["code"] == "invalid_input"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _call(url: str, data: dict | None = None, headers: dict | None = None):
    """(status, headers, body) of one request, redirects not followed."""
    opener = urllib.request.build_opener(_NoRedirect())
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={
        **({"Content-Type": "application/x-www-form-urlencoded"} if data is not None else {}), **(headers or {})})
    try:
        with opener.open(request, timeout=15) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_a_user_signs_in_with_pkce_through_the_runners_own_issuer(product):
    """The SPA's future sign-in, over real HTTP: authorize, exchange the code, call the API.
    chalice local validates the token by fetching its own issuer's JWKS, as Lambda fetches
    Cognito's."""
    discovery = json.loads(_call(f"{product.base_url}/auth/.well-known/openid-configuration")[2])
    assert discovery["issuer"] == f"{product.base_url}/auth"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    client = {"client_id": "mission-control-spa", "redirect_uri": f"{product.base_url}/"}
    status, headers, _ = _call(discovery["authorization_endpoint"], {
        **client, "response_type": "code", "state": "st", "code_challenge": challenge,
        "code_challenge_method": "S256", "user": "operator"})
    assert status == 302, headers
    answer = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)
    assert answer["state"] == ["st"]
    status, _h, body = _call(discovery["token_endpoint"], {
        **client, "grant_type": "authorization_code", "code": answer["code"][0], "code_verifier": verifier})
    assert status == 200, body
    token = json.loads(body)["access_token"]
    status, _h, body = _call(f"{product.base_url}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert (status, json.loads(body)["role"]) == (200, "operator")
    status, headers, _ = _call(f"{product.base_url}/api/kpis")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
    status, _h, _ = _call(f"{product.base_url}/api/health")
    assert status == 200


def test_the_runners_secrets_are_private_files(product):
    for name in ("dev-issuer-key.pem", "local-api-keys.json"):
        assert stat.S_IMODE((product.data_dir / name).stat().st_mode) == 0o600, name


def test_make_run_starts_an_agent_that_reports_this_machine(tmp_path, spa_dist):
    import socket

    from tests.e2e.conftest import Product, free_port  # by path: other conftests exist
    product = Product(tmp_path / "data", spa_dist, free_port(), agent=True)
    product.data_dir.mkdir()
    product.start()
    try:
        deadline = time.monotonic() + 60
        hosts = []
        while time.monotonic() < deadline:
            hosts = product.get("/api/hosts")["hosts"]
            if {"vm", "webapp"} <= {h["kind"] for h in hosts}:
                break
            time.sleep(1)
        vm = next(h for h in hosts if h["kind"] == "vm")
        assert vm["host"] == socket.gethostname() and vm["status"] == "online"
        assert 0 <= vm["values"]["mem.used_percent"] <= 100
        webapp = next(h for h in hosts if h["kind"] == "webapp")
        assert webapp["host"] == "mission-control" and webapp["values"]["http.status"] == 200
    finally:
        product.stop()
