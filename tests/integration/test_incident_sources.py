"""Incidents opened from the product's own signals: a firing alert of a rule with
``openIncident`` (default for CRITICAL) and a confirmed insight promoted by an operator."""
from __future__ import annotations

import json

import pytest
from alerting_helpers import MIN, evaluate, get, minute_now, post, remove_default_rules, send_samples

from tests.conftest import admin_with_every_key_on

LOAD = {"name": "Load high", "kind": "threshold", "source": "metric", "host": "*", "metric": "load.1m",
        "op": ">", "value": 4, "recover": 2, "severity": "CRITICAL", "for": "0s"}


@pytest.fixture
def on_both(store, access_gate, issuer):
    """The app as an admin with every ingest key, on SQLite and on DynamoDB Local."""
    yield from admin_with_every_key_on(store, access_gate, issuer)


def incidents(api) -> list[dict]:
    return get(api, "/api/incidents")[1]["incidents"]


def test_a_critical_alert_opens_one_incident_its_series_join_and_resolutions_are_recorded(on_both):
    api = on_both
    remove_default_rules(api)
    rule = post(api, "/api/alert-rules", LOAD)[1]
    assert "openIncident" not in rule  # the default: CRITICAL rules open incidents
    t0 = minute_now() - 30 * MIN
    send_samples(api, t0 - 2_000, {"web-1": {"load.1m": 6.5}})
    evaluate(api, t0)
    [incident] = incidents(api)
    assert (incident["source"], incident["severity"], incident["service"]) == ("alert", "CRITICAL", "web-1")
    send_samples(api, t0 + MIN - 2_000, {"web-1": {"load.1m": 6.0}, "web-2": {"load.1m": 9.0}})
    evaluate(api, t0 + MIN)
    [incident] = incidents(api)  # web-2's alert joined the rule's open incident
    assert len(incident["links"]["alerts"]) == 2
    evaluate(api, t0 + MIN)  # a redelivered evaluation adds nothing
    send_samples(api, t0 + 2 * MIN - 2_000, {"web-1": {"load.1m": 1.0}, "web-2": {"load.1m": 9.0}})
    evaluate(api, t0 + 2 * MIN)
    timeline = get(api, f"/api/incidents/{incident['id']}")[1]["timeline"]
    kinds = [e["kind"] for e in timeline]
    assert kinds == ["created", "alert", "alert", "alert-resolved"]
    assert "web-1" in json.dumps(timeline[-1]) or timeline[-1]["ref"]["id"] == incident["links"]["alerts"][0]["id"]


def test_open_incident_false_keeps_a_critical_rule_out_and_true_brings_a_low_rule_in(on_both):
    api = on_both
    remove_default_rules(api)
    post(api, "/api/alert-rules", {**LOAD, "openIncident": False})
    post(api, "/api/alert-rules", {**LOAD, "name": "Load low", "severity": "LOW", "openIncident": True})
    t0 = minute_now() - 10 * MIN
    send_samples(api, t0 - 2_000, {"web-1": {"load.1m": 6.5}})
    evaluate(api, t0)
    [incident] = incidents(api)
    assert incident["severity"] == "LOW" and incident["title"].startswith("Load low")


def test_a_confirmed_insight_is_promoted_once(api, sqlite_store):
    """The insight is raised as the product raises one: a spike sent over the API, the metrics
    stream delivered by the local worker."""
    import time

    from test_insights import STEP, deliver, samples, send

    from app import app
    from chalicelib.config import settings
    from chalicelib.local.worker import LocalWorker
    start = (int(time.time() * 1000) - 3 * 3_600_000) // STEP * STEP
    send(api, samples("web-1", start, 200, spike_at=150))
    deliver(LocalWorker(app, sqlite_store, settings().table_prefix))
    [insight] = get(api, "/api/insights")[1]["insights"]
    status, refused = post(api, f"/api/insights/{insight['id']}/incident", {})
    assert status == 409 and refused["error"]["details"][0]["allowed"] == ["confirm"]
    assert incidents(api) == []
    assert post(api, f"/api/insights/{insight['id']}/feedback", {"verdict": "confirm"})[0] == 200
    status, incident = post(api, f"/api/insights/{insight['id']}/incident", {})
    assert status == 201, incident
    assert (incident["source"], incident["severity"], incident["service"]) == ("insight", insight["severity"], "web-1")
    assert incident["links"]["insights"][0]["id"] == insight["id"]
    status, again = post(api, f"/api/insights/{insight['id']}/incident", {})
    assert status == 200 and again["id"] == incident["id"] and len(incidents(api)) == 1
    assert post(api, "/api/insights/nope/incident", {})[0] == 404
