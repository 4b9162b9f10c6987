"""Properties of request handling, over inputs hypothesis makes up: no body, token or query
string yields a 5xx or an error outside the one shape. The request parsing and the token check
are also tested bare (pure functions), where many more inputs fit in the time."""
from __future__ import annotations

import base64
import json
import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import bounded_json
from chalicelib.auth.tokens import TokenPolicy, TokenRefused, verify_token

#: the app through chalice.test.Client is slower per example than a pure function
THROUGH_THE_APP = settings(max_examples=150, deadline=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
BARE = settings(max_examples=400, deadline=None)

JSON_ROUTES = ["/api/ingest/purchase", "/api/ingest/pageview", "/api/ingest/event", "/api/metrics",
               "/api/keys"]
READ_ROUTES = ["/api/metrics", "/api/kpis", "/api/revenue", "/api/products", "/api/hosts", "/api/users"]

# -- what a client may send --------------------------------------------------------------------
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**500, max_value=10**500),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)), max_leaves=30)
field_names = st.sampled_from(["orderId", "eventId", "productId", "productName", "amount", "currency",
                               "userId", "sessionId", "timestamp", "page", "referrer", "name", "feature",
                               "properties", "host", "kind", "values", "meta", "scopes"])
#: objects that look like what the routes take, with any values in their fields
near_miss_objects = st.dictionaries(field_names, json_values, max_size=10)


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


json_texts = st.one_of(
    json_values.map(json.dumps),
    near_miss_objects.map(json.dumps),
    st.lists(near_miss_objects, max_size=4).map(json.dumps),
    st.integers(min_value=1, max_value=6000).map(nested),
    st.tuples(st.integers(min_value=1, max_value=3000), near_miss_objects).map(
        lambda d: json.dumps(d[1])[:-1] + (", " if d[1] else "") + '"properties": ' + nested(d[0]) + "}"),
    st.sampled_from(["NaN", "[Infinity]", '{"x": -Infinity}', "1e400", "9" * 5000, '"\\ud800"', "\ufeff{}"]),
    st.text(max_size=200),
)
bodies = st.one_of(json_texts.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=300))

#: what an HTTP header value can carry (no CR/LF)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                      max_size=300)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


tokenish = st.one_of(
    header_text,
    st.tuples(json_texts, json_texts, st.binary(max_size=64)).map(
        lambda p: ".".join([b64url(p[0].encode("utf-8", "surrogatepass")),
                            b64url(p[1].encode("utf-8", "surrogatepass")), b64url(p[2])])),
    st.tuples(json_values, st.sampled_from(["RS256", "ES256", "HS256", "none", ""])).map(
        lambda p: b64url(json.dumps({"alg": p[1], "kid": p[0]}).encode()) + "." + b64url(b"{}") + ".sig"),
)
query_values = st.one_of(st.text(max_size=60), st.integers(min_value=-10**450, max_value=10**450).map(str),
                         st.sampled_from(["", "1e12", "0x10", " 5", "5 ", "１２", "24h", "web-1", "cpu.percent"]))


def assert_in_the_shape_and_not_5xx(reply) -> None:
    assert reply.status_code < 500, (reply.status_code, reply.body[:500])
    if reply.status_code >= 400:
        body = json.loads(reply.body)
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
        assert isinstance(body["error"]["message"], str) and isinstance(body["error"]["details"], list)
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Content-Security-Policy"].startswith("default-src 'none'")


# -- bare: the parser and the token check -----------------------------------------------------
@BARE
@given(bodies)
def test_the_body_parser_answers_a_value_or_a_refusal_and_nothing_else(raw):
    try:
        value = bounded_json.parse(raw)
    except bounded_json.JsonRefused as refused:
        assert refused.reason and not refused.too_large
    else:
        # What it gives is JSON again, but for a number too large for a float (1e400), which
        # becomes an infinity for the models to refuse by its field's name; never a NaN.
        assert not any(isinstance(x, float) and x != x for x in leaves(value))


def leaves(value):
    if isinstance(value, dict):
        for inner in value.values():
            yield from leaves(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from leaves(inner)
    else:
        yield value


@BARE
@given(json_values)
def test_the_body_parser_reads_every_json_document_within_its_limits_as_json_does(value):
    text = json.dumps(value)
    assert bounded_json.parse(text) == json.loads(text)


@BARE
@given(st.integers(min_value=0, max_value=40))
def test_nesting_is_refused_exactly_past_the_limit(depth):
    text = nested(depth, "[]" if depth else "0")
    if depth + (1 if depth else 0) <= bounded_json.MAX_DEPTH:
        bounded_json.parse(text)
    else:
        with pytest.raises(bounded_json.JsonRefused, match="deeper than"):
            bounded_json.parse(text)


POLICY = TokenPolicy(issuer="https://issuer.example", algorithms=("RS256", "ES256"), client_ids=("c",))


@BARE
@given(tokenish)
def test_the_token_check_refuses_what_it_cannot_verify_and_raises_nothing_else(token):
    def no_key(_kid):
        return None
    with pytest.raises(TokenRefused) as refused:
        verify_token(token, POLICY, no_key)
    assert token not in refused.value.reason or len(token) < 8


# -- through the app ----------------------------------------------------------------------------
@THROUGH_THE_APP
@given(route=st.sampled_from(JSON_ROUTES), body=bodies,
       content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain"]))
def test_no_body_on_any_json_route_yields_a_5xx_or_an_answer_outside_the_shape(api, route, body, content_type):
    assert_in_the_shape_and_not_5xx(api.http.post(route, headers={"content-type": content_type}, body=body))


@THROUGH_THE_APP
@given(route=st.sampled_from(READ_ROUTES + ["/api/me", "/api/keys"]), token=tokenish,
       scheme=st.sampled_from(["Bearer ", "bearer ", "Basic ", ""]))
def test_no_authorization_header_yields_a_5xx_or_an_answer_outside_the_shape(anonymous_api, route, token, scheme):
    reply = anonymous_api.http.get(route, headers={"authorization": scheme + token})
    assert_in_the_shape_and_not_5xx(reply)
    assert reply.status_code in (401, 503), reply.body
    assert len(token) < 12 or token not in reply.body.decode("utf-8", "replace")


@THROUGH_THE_APP
@given(route=st.sampled_from(JSON_ROUTES[:4]), key=st.one_of(header_text, header_text.map(lambda t: "mck_" + t)))
def test_no_api_key_header_yields_a_5xx_or_an_answer_outside_the_shape(anonymous_api, route, key):
    reply = anonymous_api.http.post(route, headers={"x-api-key": key, "content-type": "application/json"}, body=b"{}")
    assert_in_the_shape_and_not_5xx(reply)
    assert reply.status_code == 401, reply.body


@THROUGH_THE_APP
@given(key_id=st.one_of(st.text(min_size=1, max_size=2000), st.text("0123456789abcdef", min_size=1, max_size=80)))
def test_no_key_id_in_a_path_yields_a_5xx_or_an_answer_outside_the_shape(api, key_id):
    assert_in_the_shape_and_not_5xx(api.http.delete("/api/keys/" + quote(key_id, safe="", errors="surrogatepass")))


@THROUGH_THE_APP
@given(route=st.sampled_from(READ_ROUTES),
       params=st.dictionaries(st.sampled_from(["host", "metric", "from", "to", "step", "kind", "period",
                                               "weeks", "limit", "window", string.ascii_lowercase]),
                              query_values, max_size=6))
def test_no_query_string_yields_a_5xx_or_an_answer_outside_the_shape(api, route, params):
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='', errors='surrogatepass')}" for k, v in params.items())
    assert_in_the_shape_and_not_5xx(api.http.get(f"{route}?{query}" if query else route))
