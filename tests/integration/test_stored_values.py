"""What the API stores: only what both engines keep alike. Numbers that are not finite, text that
is not Unicode, control characters in names, pages and keys, and events or property values over
their limits are refused with a 400 naming the field, in the API's words; the largest event
that is accepted is stored and read back the same on SQLite and on DynamoDB Local."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.business.models import MAX_EVENT_BYTES, MAX_PROPERTY_CHARS
from tests.conftest import admin_with_every_key_on

JSON = {"content-type": "application/json"}


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def api_on(store, access_gate, issuer):
    """The API on each engine (``store`` is SQLite, then DynamoDB Local)."""
    yield from admin_with_every_key_on(store, access_gate, issuer)


def event(**changes) -> dict:
    base = {"eventId": "e-1", "name": "report.exported", "userId": "u-1", "sessionId": "s-1",
            "timestamp": now_ms() - 1000}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def pageview(**changes) -> dict:
    return {**{"eventId": "pv-1", "sessionId": "s-1", "page": "/pricing", "timestamp": now_ms() - 1000},
            **changes}


def purchase(**changes) -> dict:
    return {**{"orderId": "o-1", "productId": "pro", "productName": "Pro plan", "amount": 2900,
               "currency": "USD", "userId": "u-1", "timestamp": now_ms() - 1000}, **changes}


def post(api, kind: str, body) -> tuple[int, dict]:
    reply = api.http.post(f"/api/ingest/{kind}", headers=JSON,
                          body=body if isinstance(body, str) else json.dumps(body))
    return reply.status_code, json.loads(reply.body)


def refused_fields(reply: dict) -> list[str]:
    assert set(reply) == {"error"}, reply
    return [d["field"] for d in reply["error"]["details"]]


def stored_events(api) -> int:
    return json.loads(api.http.get("/api/kpis?period=24h").body)["orders"]["value"]


def largest_event() -> dict:
    """An event right at the limits: many properties, long values, extreme numbers, text from
    outside the Basic Multilingual Plane and control characters where values may hold them."""
    properties = {"emoji": "🚀" * 200, "lines": "one\ntwo\tthree", "big": 10**18, "small": -1e-100,
                  "ratio": 0.1, "flag": False, "nothing": None}
    properties.update({f"p{i:02d}": "x" * 160 for i in range(42)})
    properties["fill"] = ""
    body = event(eventId="e-largest", feature="export", properties=properties)
    size = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    properties["fill"] = "y" * (MAX_EVENT_BYTES - size)  # exactly at the limit, 50 properties
    assert len(properties) == 50 and len(properties["fill"]) <= MAX_PROPERTY_CHARS
    return body


def test_the_largest_event_accepted_is_stored_and_read_back_alike_on_both_engines(api_on, store):
    body = largest_event()
    assert post(api_on, "event", body) == (200, {"accepted": 1, "duplicates": 0, "refused": []})
    item = store.get("events", "event#e-largest", "e")
    assert item["properties"] == body["properties"]


@pytest.mark.parametrize("raw, words", [
    ('{"x": 1e400}', "finite"), ('{"x": -1e400}', "finite"), ('{"x": 1e19}', "at most 1e18"),
    ('{"x": 1e-200}', "at least 1e-100"), ('{"x": %s}' % ("9" * 400), "at most 1e18"),
    ('{"x": "\\ud800"}', "unpaired UTF-16 surrogate"), ('{"x": "x\\udc00"}', "unpaired UTF-16 surrogate"),
    ('{"x": {"nested": 1}}', "flat"), ('{"x": [1]}', "flat"),
])
def test_a_property_value_no_store_keeps_alike_is_refused_naming_it(api_on, raw, words):
    body = json.dumps(event())[:-1] + ', "properties": ' + raw + "}"
    status, reply = post(api_on, "event", body)
    assert status == 400 and refused_fields(reply) == ["properties.x"], reply
    assert words in reply["error"]["details"][0]["message"]
    assert stored_events(api_on) == 0 and api_on.http.get("/api/users").status_code == 200


@pytest.mark.parametrize("raw", ['NaN', 'Infinity', '-Infinity'])
def test_nan_and_infinity_in_properties_are_refused_as_not_json(api, raw):
    status, reply = post(api, "event", json.dumps(event())[:-1] + ', "properties": {"x": ' + raw + "}}")
    assert status == 400 and "not a JSON number" in reply["error"]["message"]


@pytest.mark.parametrize("kind, make, field", [
    ("event", lambda bad: event(name=f"report{bad}"), "name"),
    ("event", lambda bad: event(properties={f"k{bad}": 1}), "properties.k"),
    ("event", lambda bad: event(userId=f"u{bad}"), "userId"),
    ("pageview", lambda bad: pageview(page=f"/p{bad}"), "page"),
    ("pageview", lambda bad: pageview(referrer=f"https://x/{bad}"), "referrer"),
    ("purchase", lambda bad: purchase(productName=f"Pro{bad}"), "productName"),
])
@pytest.mark.parametrize("bad", ["\u0000", "\u001b", "\u007f", "\ud800", "\udfff"])
def test_control_characters_and_lone_surrogates_in_names_pages_and_keys_are_refused(api, kind, make, field, bad):
    raw = json.dumps(make(bad))  # ensure_ascii: the lone surrogate travels as \\ud800, as a client sends it
    status, reply = post(api, kind, raw)
    # A refused key is named by its path, its unreadable characters shown as U+FFFD.
    assert status == 400 and [f.rstrip("\ufffd") for f in refused_fields(reply)] == [field], reply
    message = reply["error"]["details"][0]["message"]
    assert ("control characters" if bad < "\ud800" else "surrogate") in message
    assert stored_events(api) == 0


def test_a_property_value_over_its_limit_is_refused(api):
    status, reply = post(api, "event", event(properties={"note": "x" * (MAX_PROPERTY_CHARS + 1)}))
    assert status == 400 and refused_fields(reply) == ["properties.note"]
    assert f"at most {MAX_PROPERTY_CHARS} characters" in reply["error"]["details"][0]["message"]


def test_a_one_megabyte_property_value_is_refused(api):
    status, reply = post(api, "event", event(properties={"note": "x" * 1_000_000}))
    assert status == 400 and refused_fields(reply) == ["properties.note"]


def test_an_event_over_8_kb_is_refused_naming_the_event(api):
    body = event(properties={f"p{i:02d}": "x" * 400 for i in range(25)})
    status, reply = post(api, "event", body)
    assert status == 400 and refused_fields(reply) == ["(event)"]
    assert "at most 8,192 bytes" in reply["error"]["details"][0]["message"]


def test_in_a_batch_an_oversized_event_is_refused_alone(api):
    status, reply = post(api, "event", [event(eventId="ok"), event(eventId="big", properties={
        f"p{i:02d}": "x" * 400 for i in range(25)})])
    assert status == 207 and reply["accepted"] == 1
    assert reply["refused"] == [{"index": 1, "errors": [
        {"field": "(event)", "message": reply["refused"][0]["errors"][0]["message"]}]}]


@pytest.mark.parametrize("kind, body", [
    ("event", event(properties={"x": "a" * 2000, "y": [1], "": 2}, feature="no spaces")),
    ("purchase", purchase(amount="12", orderId="", currency="usd", extra=1)),
    ("pageview", pageview(timestamp="yesterday", sessionId=None)),
])
def test_validation_messages_speak_the_apis_language(api, kind, body):
    status, reply = post(api, kind, body)
    text = json.dumps(reply)
    assert status == 400
    for pydantic_words in ("Value error", "Input should", "String should", ".float", ".int", ".str",
                           "[key]", "function-", "union["):
        assert pydantic_words not in text, (pydantic_words, text)


def test_a_metric_value_of_the_wrong_type_names_the_metric_not_a_union_branch(api):
    reply = api.http.post("/api/metrics", headers=JSON, body=json.dumps(
        {"host": "h", "kind": "vm", "timestamp": now_ms(), "values": {"cpu.percent": "high"}}))
    assert json.loads(reply.body)["error"]["details"] == [{"field": "values.cpu.percent", "message": "must be a number"}]
