"""What a hostile or careless client sends, through chalice.test.Client: every answer is a 4xx in
the one error shape, never a 500, and nothing is written."""
from __future__ import annotations

import base64
import json
import logging
import time

import pytest

JSON = {"content-type": "application/json"}
#: every route that reads a JSON body
JSON_ROUTES = ["/api/ingest/purchase", "/api/ingest/pageview", "/api/ingest/event", "/api/metrics",
               "/api/keys"]
#: routes a user token opens
USER_ROUTES = ["/api/kpis", "/api/revenue", "/api/users", "/api/products", "/api/system-health",
               "/api/me", "/api/hosts", "/api/metrics?host=web-1&metric=cpu.percent", "/api/keys"]


def now_ms() -> int:
    return int(time.time() * 1000)


def body_of(reply) -> dict:
    return json.loads(reply.body)


def assert_error(reply, status: int) -> dict:
    """The one error shape, with its status; returns the error."""
    assert reply.status_code == status, (reply.status_code, reply.body[:300])
    body = body_of(reply)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["details"], list)
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    return body["error"]


def nothing_stored(api) -> bool:
    kpis = body_of(api.http.get("/api/kpis?period=24h"))
    hosts = body_of(api.http.get("/api/hosts"))
    keys = body_of(api.http.get("/api/keys"))["keys"]
    return kpis["orders"]["value"] == 0 and hosts["hosts"] == [] and [k["name"] for k in keys] == ["tests"]


def event(**changes) -> dict:
    base = {"eventId": "e-1", "name": "report.exported", "userId": "u-1", "sessionId": "s-1",
            "timestamp": now_ms() - 1000}
    return {**base, **changes}


def post_event(api, body) -> object:
    return api.http.post("/api/ingest/event", headers=JSON,
                         body=body if isinstance(body, str) else json.dumps(body))


# -- bodies -------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", JSON_ROUTES)
def test_deeply_nested_body_is_a_400_not_a_500(api, route):
    reply = api.http.post(route, headers=JSON, body="[" * 5000 + "]" * 5000)
    error = assert_error(reply, 400)
    assert "deeper than" in error["message"]
    assert nothing_stored(api)


@pytest.mark.parametrize("route", JSON_ROUTES)
def test_deep_nesting_inside_one_field_is_a_400_not_a_500(api, route):
    body = '{"host": "h", "name": ' + "[" * 5000 + "]" * 5000 + "}"
    assert_error(api.http.post(route, headers=JSON, body=body), 400)
    assert nothing_stored(api)


def test_unclosed_nesting_is_a_400_not_a_500(api):
    assert_error(api.http.post("/api/ingest/purchase", headers=JSON, body="[" * 100_000), 400)


def test_a_body_over_the_size_limit_is_a_413_and_writes_nothing(api):
    from chalicelib.bounded_json import MAX_BODY_BYTES
    events = [event(eventId=f"e-{i}", properties={"note": "x" * 1000}) for i in range(500)]
    body = json.dumps(events)
    body += " " * (MAX_BODY_BYTES + 1 - len(body))
    error = assert_error(post_event(api, body), 413)
    assert error["code"] == "too_large" and f"{MAX_BODY_BYTES:,}" in error["message"]
    assert nothing_stored(api)


@pytest.mark.parametrize("raw", ['{"x": NaN}', '{"x": Infinity}', '{"x": -Infinity}'])
def test_nan_and_infinity_are_not_json(api, raw):
    error = assert_error(post_event(api, raw), 400)
    assert "not a JSON number" in json.dumps(error)


def test_integers_of_thousands_of_digits_are_a_400(api):
    assert_error(post_event(api, '{"amount": ' + "9" * 5000 + "}"), 400)


# -- the token check ----------------------------------------------------------------------------
def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize("route", USER_ROUTES)
def test_a_token_whose_header_nests_deeply_is_a_401_and_a_quiet_log_line(api, route, caplog):
    token = b64url(b"[" * 5000 + b"]" * 5000) + "." + b64url(b"{}") + ".c2ln"
    with caplog.at_level(logging.INFO):
        reply = api.http.get(route, headers={"authorization": f"Bearer {token}"})
    error = assert_error(reply, 401)
    assert token not in reply.body.decode() and token not in json.dumps(dict(reply.headers))
    assert 'error="invalid_token"' in reply.headers["WWW-Authenticate"]
    assert error["code"] == "unauthenticated"
    # A quiet line: no traceback, nothing above INFO.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info], caplog.text
    assert any("token refused" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("header", [b"NaN", b'{"alg": "RS256", "kid": NaN}', b"\xff\xfe", b'"' + b"x" * 7000 + b'"'])
def test_a_malformed_token_header_is_a_401(api, header):
    token = b64url(header) + "." + b64url(b"{}") + ".c2ln"
    assert_error(api.http.get("/api/kpis", headers={"authorization": f"Bearer {token}"}), 401)


# -- numbers out of range -----------------------------------------------------------------------
@pytest.mark.parametrize("param", ["to", "from", "step"])
def test_a_400_digit_query_number_is_a_400_naming_the_parameter(api, param):
    huge = "9" * 400
    reply = api.http.get(f"/api/metrics?host=web-1&metric=cpu.percent&{param}={huge}")
    error = assert_error(reply, 400)
    assert [d["field"] for d in error["details"]] == [param]
    assert huge not in reply.body.decode()  # named, not repeated


@pytest.mark.parametrize("query, field", [
    ("from=-5", "from"), ("to=1e12", "to"), ("to=%EF%BC%91%EF%BC%92", "to"), ("step=5000", "step"),
    ("step=15000", "step"), ("host=web%201", "host"), ("metric=CPU", "metric"), ("kind=container", "kind"),
])
def test_query_parameters_out_of_their_range_are_a_400_naming_them(api, query, field):
    params = dict(p.split("=", 1) for p in f"host=web-1&metric=cpu.percent&{query}".split("&"))
    reply = api.http.get("/api/metrics?" + "&".join(f"{k}={v}" for k, v in params.items()))
    assert field in [d["field"] for d in assert_error(reply, 400)["details"]]


def test_a_400_digit_metric_value_is_a_400_naming_the_field(api):
    raw = '{"host": "h", "kind": "vm", "timestamp": %d, "values": {"cpu.percent": %s}}' % (now_ms(), "9" * 400)
    error = assert_error(api.http.post("/api/metrics", headers=JSON, body=raw), 400)
    assert error["details"] == [{"field": "values.cpu.percent", "message": "must be at most 1e18 in magnitude"}]
    assert nothing_stored(api)


@pytest.mark.parametrize("param, value", [("weeks", "9" * 400), ("limit", "9" * 400)])
def test_a_400_digit_business_parameter_is_a_400(api, param, value):
    route = "/api/revenue" if param == "weeks" else "/api/products"
    assert param in [d["field"] for d in assert_error(api.http.get(f"{route}?{param}={value}"), 400)["details"]]
