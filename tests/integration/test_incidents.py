"""Incidents through the app as AWS and clients reach it: the ``alarmToIncident`` handler fed
with the CloudWatch user guide's real EventBridge sample and variations built from it, and the
REST API through chalice.test.Client, on SQLite and on DynamoDB Local."""
from __future__ import annotations

import json

import pytest
from incident_events import (anomaly_band, composite, config_change, metric_math, now_utc, sample,
                             state_change, timedelta)

from tests.conftest import admin_with_every_key_on

JSON = {"content-type": "application/json"}
ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"


@pytest.fixture
def client(store, access_gate, issuer):
    """The app as an admin, on each engine (``store`` is parametrized: sqlite, dynamodb)."""
    yield from admin_with_every_key_on(store, access_gate, issuer)


@pytest.fixture(autouse=True)
def fresh_settings():
    from chalicelib.incidents.settings import incident_settings
    incident_settings.cache_clear()
    yield
    incident_settings.cache_clear()


def deliver(client, event: dict) -> dict:
    return client.lambda_.invoke("alarmToIncident", event).payload


def call(client, method: str, path: str, body=None, headers=None):
    reply = client.http.request(method, path, headers={**JSON, **(headers or {})},
                                body=json.dumps(body).encode() if body is not None else b"")
    return reply.status_code, (json.loads(reply.body) if reply.body else None), reply.headers


def incidents(client, query: str = "") -> list[dict]:
    status, body, _ = call(client, "GET", f"/api/incidents{query}")
    assert status == 200, body
    return body["incidents"]


def detail(client, incident_id: str) -> tuple[dict, str]:
    status, body, headers = call(client, "GET", f"/api/incidents/{incident_id}")
    assert status == 200, body
    return body, headers["ETag"]


def as_role(issuer, role: str) -> dict:
    return {"authorization": f"Bearer {issuer.token(role)}"}


# -- intake -------------------------------------------------------------------------------------------
def test_the_documented_alarm_event_opens_an_incident_keyed_by_its_alarm(client):
    result = deliver(client, sample())
    assert result["outcome"] == "opened"
    listed = incidents(client)
    assert [i["id"] for i in listed] == [result["incidentId"]]
    incident, _ = detail(client, result["incidentId"])
    assert (incident["status"], incident["source"], incident["service"]) == ("open", "cloudwatch", "AWS/EC2")
    alarm = incident["links"]["alarms"][0]
    assert alarm["arn"] == ARN and alarm["consoleUrl"].startswith("https://us-east-1.console.aws.amazon.com/cloudwatch/")
    assert [e["kind"] for e in incident["timeline"]] == ["created", "alarm"]
    assert incident["timeline"][1]["to"] == "ALARM" and incident["timeline"][1]["who"]["subject"] == "cloudwatch"


def test_redelivered_event_changes_nothing(client):
    first = deliver(client, sample())
    before, etag = detail(client, first["incidentId"])
    assert deliver(client, sample()) == {"outcome": "duplicate"}
    after, etag_after = detail(client, first["incidentId"])
    assert (after, etag_after) == (before, etag)
    assert len(incidents(client)) == 1


def test_ok_after_alarm_resolves_an_untouched_incident_and_alarm_again_reopens_it(client):
    t0 = now_utc() - timedelta(minutes=20)
    opened = deliver(client, state_change("ALARM", t0, event_id="e-1", previous="OK"))
    resolved = deliver(client, state_change("OK", t0 + timedelta(minutes=5), event_id="e-2", previous="ALARM"))
    assert resolved == {"outcome": "resolved", "incidentId": opened["incidentId"]}
    incident, _ = detail(client, opened["incidentId"])
    assert incident["status"] == "resolved" and incident["resolvedAt"] is not None
    again = deliver(client, state_change("ALARM", t0 + timedelta(minutes=10), event_id="e-3", previous="OK"))
    assert again == {"outcome": "reopened", "incidentId": opened["incidentId"]}
    incident, _ = detail(client, opened["incidentId"])
    assert incident["status"] == "open" and incident["resolvedAt"] is None
    statuses = [(e["from"], e["to"]) for e in incident["timeline"] if e["kind"] == "status"]
    assert statuses == [("open", "resolved"), ("resolved", "open")]


def test_alarm_after_the_reopen_window_opens_a_new_incident(client, monkeypatch):
    monkeypatch.setenv("INCIDENTS_REOPEN_WINDOW_MINUTES", "5")
    t0 = now_utc() - timedelta(hours=2)
    first = deliver(client, state_change("ALARM", t0, event_id="w-1", previous="OK"))
    deliver(client, state_change("OK", t0 + timedelta(minutes=1), event_id="w-2"))
    # resolvedAt is the OK's time (t0 + 1 min): a firing two hours later is outside 5 minutes.
    later = deliver(client, state_change("ALARM", now_utc() + timedelta(minutes=6), event_id="w-3"))
    assert later["outcome"] == "opened" and later["incidentId"] != first["incidentId"]
    assert len(incidents(client)) == 2


def test_ok_leaves_an_incident_a_person_took_over_open(client):
    t0 = now_utc() - timedelta(minutes=10)
    opened = deliver(client, state_change("ALARM", t0, event_id="p-1"))
    _, etag = detail(client, opened["incidentId"])
    status, body, _ = call(client, "PATCH", f"/api/incidents/{opened['incidentId']}",
                           {"status": "acknowledged"}, {"if-match": etag})
    assert status == 200, body
    assert deliver(client, state_change("OK", t0 + timedelta(minutes=2), event_id="p-2"))["outcome"] == "recorded"
    incident, _ = detail(client, opened["incidentId"])
    assert incident["status"] == "acknowledged"
    assert incident["timeline"][-1]["kind"] == "alarm" and incident["timeline"][-1]["to"] == "OK"


def test_auto_resolve_off_records_the_recovery_only(client, monkeypatch):
    monkeypatch.setenv("INCIDENTS_AUTO_RESOLVE", "false")
    t0 = now_utc() - timedelta(minutes=10)
    opened = deliver(client, state_change("ALARM", t0, event_id="a-1"))
    assert deliver(client, state_change("OK", t0 + timedelta(minutes=1), event_id="a-2"))["outcome"] == "recorded"
    assert detail(client, opened["incidentId"])[0]["status"] == "open"


def test_an_older_state_change_arriving_late_never_moves_the_incident_back(client):
    t0 = now_utc() - timedelta(minutes=30)
    opened = deliver(client, state_change("ALARM", t0 + timedelta(minutes=10), event_id="o-2"))
    late_ok = deliver(client, state_change("OK", t0, event_id="o-1"))
    assert late_ok == {"outcome": "late", "incidentId": opened["incidentId"]}
    incident, _ = detail(client, opened["incidentId"])
    assert incident["status"] == "open"
    assert incident["timeline"][-1]["applied"] is False
    assert deliver(client, state_change("OK", t0, event_id="o-1")) == {"outcome": "duplicate"}


def test_insufficient_data_adds_an_entry(client):
    t0 = now_utc() - timedelta(minutes=10)
    opened = deliver(client, state_change("ALARM", t0, event_id="i-1"))
    assert deliver(client, state_change("INSUFFICIENT_DATA", t0 + timedelta(minutes=1), event_id="i-2"))[
        "outcome"] == "recorded"
    incident, _ = detail(client, opened["incidentId"])
    assert incident["status"] == "open" and incident["timeline"][-1]["to"] == "INSUFFICIENT_DATA"


@pytest.mark.parametrize("shape,kind,service", [(metric_math, "metric-math", "AWS/EC2"),
                                                (anomaly_band, "anomaly-band", "AWS/EC2"),
                                                (composite, "composite", "cloudwatch")])
def test_metric_math_anomaly_band_and_composite_alarms_open_incidents(client, shape, kind, service):
    event = shape()
    result = deliver(client, event)
    assert result["outcome"] == "opened"
    incident, _ = detail(client, result["incidentId"])
    assert incident["links"]["alarms"][0]["kind"] == kind and incident["service"] == service
    assert incident["links"]["alarms"][0]["arn"] == event["resources"][0]
    if kind == "composite":  # the child alarm that tripped it, from state.reasonData
        assert incident["links"]["alarms"][0]["triggeringAlarms"] == [ARN]


def test_configuration_change_event_is_ignored(client):
    assert deliver(client, config_change()) == {"outcome": "ignored"}
    assert incidents(client) == []


def test_an_event_without_a_state_is_ignored_not_a_crash(client):
    event = sample()
    del event["detail"]["state"]
    assert deliver(client, event) == {"outcome": "ignored"}
    assert incidents(client) == []


# -- the API -------------------------------------------------------------------------------------------
def declare(client, **fields) -> dict:
    body = {"title": "Checkout failing", "severity": "CRITICAL", "service": "checkout", **fields}
    status, incident, headers = call(client, "POST", "/api/incidents", body)
    assert status == 201, incident
    assert headers["ETag"]
    return incident


def test_declare_then_walk_the_lifecycle_with_if_match(client):
    incident = declare(client, description="500s on /pay")
    assert incident["source"] == "manual" and incident["status"] == "open"
    etag = detail(client, incident["id"])[1]
    for target in ("acknowledged", "investigating", "mitigated", "resolved"):
        status, body, headers = call(client, "PATCH", f"/api/incidents/{incident['id']}",
                                     {"status": target}, {"if-match": etag})
        assert status == 200 and body["status"] == target, body
        etag = headers["ETag"]
    final, _ = detail(client, incident["id"])
    assert final["acknowledgedAt"] >= final["createdAt"] and final["resolvedAt"] >= final["acknowledgedAt"]
    moves = [(e["from"], e["to"], e["who"]["subject"]) for e in final["timeline"] if e["kind"] == "status"]
    assert [m[:2] for m in moves] == [("open", "acknowledged"), ("acknowledged", "investigating"),
                                      ("investigating", "mitigated"), ("mitigated", "resolved")]
    assert all(m[2] for m in moves)


def test_stale_patch_is_refused_with_412_and_changes_nothing(client):
    incident = declare(client)
    _, etag = detail(client, incident["id"])
    status, _, _ = call(client, "PATCH", f"/api/incidents/{incident['id']}", {"assignee": "ana"}, {"if-match": etag})
    assert status == 200
    before, _ = detail(client, incident["id"])
    status, body, _ = call(client, "PATCH", f"/api/incidents/{incident['id']}", {"status": "acknowledged"},
                           {"if-match": etag})
    assert status == 412 and body["error"]["code"] == "precondition_failed"
    assert detail(client, incident["id"])[0] == before


def test_patch_without_if_match_is_428(client):
    incident = declare(client)
    status, body, _ = call(client, "PATCH", f"/api/incidents/{incident['id']}", {"status": "acknowledged"})
    assert status == 428 and body["error"]["code"] == "precondition_required"


def test_a_move_the_lifecycle_refuses_is_409_listing_the_allowed_ones(client):
    incident = declare(client)
    _, etag = detail(client, incident["id"])
    _, _, headers = call(client, "PATCH", f"/api/incidents/{incident['id']}", {"status": "investigating"},
                         {"if-match": etag})
    status, body, _ = call(client, "PATCH", f"/api/incidents/{incident['id']}", {"status": "acknowledged"},
                           {"if-match": headers["ETag"]})
    assert status == 409
    assert body["error"]["details"] == [{"field": "status", "from": "investigating",
                                         "allowed": ["mitigated", "resolved", "closed"]}]


def test_only_an_admin_closes(client, issuer):
    incident = declare(client)
    _, etag = detail(client, incident["id"])
    status, body, _ = call(client, "PATCH", f"/api/incidents/{incident['id']}", {"status": "closed"},
                           {"if-match": etag, **as_role(issuer, "operator")})
    assert status == 403, body
    status, body, _ = call(client, "PATCH", f"/api/incidents/{incident['id']}", {"status": "closed"},
                           {"if-match": etag})
    assert status == 200 and body["status"] == "closed"


def test_a_viewer_is_refused_every_write_and_nothing_changes(client, issuer):
    incident = declare(client)
    before, etag = detail(client, incident["id"])
    viewer = as_role(issuer, "viewer")
    writes = [("POST", "/api/incidents", {"title": "x", "severity": "LOW", "service": "s"}),
              ("PATCH", f"/api/incidents/{incident['id']}", {"status": "acknowledged"}),
              ("POST", f"/api/incidents/{incident['id']}/notes", {"text": "hi"}),
              ("POST", "/api/insights/any-insight/incident", {})]
    for method, path, body in writes:
        status, reply, _ = call(client, method, path, body, {"if-match": etag, **viewer})
        assert status == 403, (method, path, reply)
    assert detail(client, incident["id"])[0] == before
    assert len(incidents(client)) == 1
    status, listed, _ = call(client, "GET", "/api/incidents", headers=viewer)
    assert status == 200 and len(listed["incidents"]) == 1


def test_a_viewer_is_offered_no_transitions(client, issuer):
    incident = declare(client)
    status, body, _ = call(client, "GET", f"/api/incidents/{incident['id']}", headers=as_role(issuer, "viewer"))
    assert status == 200 and body["allowedTransitions"] == []
    status, body, _ = call(client, "GET", f"/api/incidents/{incident['id']}", headers=as_role(issuer, "operator"))
    assert "closed" not in body["allowedTransitions"] and "acknowledged" in body["allowedTransitions"]


def test_notes_are_appended_to_the_timeline(client):
    incident = declare(client)
    status, body, _ = call(client, "POST", f"/api/incidents/{incident['id']}/notes", {"text": "rolled back 1.4.2"})
    assert status == 201, body
    timeline = detail(client, incident["id"])[0]["timeline"]
    assert timeline[-1]["kind"] == "note" and timeline[-1]["text"] == "rolled back 1.4.2"


def test_filters_list_newest_first_and_page(client):
    made = [declare(client, title=f"inc {i}", severity=("LOW", "CRITICAL")[i % 2],
                    service=("api", "web")[i % 2]) for i in range(5)]
    newest_first = sorted(made, key=lambda m: m["id"], reverse=True)  # ids sort by creation time
    ids = [m["id"] for m in newest_first]
    assert [i["id"] for i in incidents(client)] == ids
    assert [i["id"] for i in incidents(client, "?severity=CRITICAL")] == [m["id"] for m in newest_first if m["severity"] == "CRITICAL"]
    assert [i["id"] for i in incidents(client, "?service=api&severity=LOW")] == [m["id"] for m in newest_first if m["service"] == "api"]
    assert incidents(client, "?status=resolved") == []
    assert len(incidents(client, f"?since={made[-1]['createdAt']}")) >= 1
    status, page, _ = call(client, "GET", "/api/incidents?limit=2")
    assert len(page["incidents"]) == 2 and page["cursor"]
    status, rest, _ = call(client, "GET", f"/api/incidents?limit=10&cursor={page['cursor']}")
    assert [i["id"] for i in page["incidents"] + rest["incidents"]] == ids


def test_status_filter_follows_the_incident(client):
    incident = declare(client)
    _, etag = detail(client, incident["id"])
    call(client, "PATCH", f"/api/incidents/{incident['id']}", {"status": "resolved"}, {"if-match": etag})
    assert incidents(client, "?status=open") == []
    assert [i["id"] for i in incidents(client, "?status=resolved")] == [incident["id"]]


@pytest.mark.parametrize("body", [{}, {"title": "", "severity": "LOW", "service": "s"},
                                  {"title": "t", "severity": "URGENT", "service": "s"},
                                  {"title": "t", "severity": "LOW", "service": "s", "extra": 1}])
def test_bad_declarations_are_400_and_write_nothing(client, body):
    status, reply, _ = call(client, "POST", "/api/incidents", body)
    assert status == 400 and reply["error"]["code"] == "invalid_input"
    assert incidents(client) == []


def test_bad_filters_and_unknown_ids_are_4xx(client):
    assert call(client, "GET", "/api/incidents?status=sleeping")[0] == 400
    assert call(client, "GET", "/api/incidents?cursor=forged")[0] == 400
    assert call(client, "GET", "/api/incidents/nope")[0] == 404
    assert call(client, "PATCH", "/api/incidents/nope", {"status": "resolved"}, {"if-match": '"x"'})[0] == 404


def test_stats_count_by_severity_with_mtta_and_mttr(client):
    a = declare(client, severity="HIGH")
    declare(client, severity="LOW")
    _, etag = detail(client, a["id"])
    call(client, "PATCH", f"/api/incidents/{a['id']}", {"status": "resolved"}, {"if-match": etag})
    status, stats, _ = call(client, "GET", "/api/incidents/stats?since=" + str(a["createdAt"] - 1000))
    assert status == 200, stats
    assert stats["count"] == 2 and stats["bySeverity"]["HIGH"] == 1 and stats["bySeverity"]["LOW"] == 1
    assert stats["mttrMs"]["n"] == 1 and stats["mttaMs"]["n"] == 1 and stats["mttrMs"]["median"] >= 0


# -- notices -------------------------------------------------------------------------------------------
def test_opening_and_resolving_are_told_on_the_alerts_channels_with_a_link(client, store, monkeypatch):
    """A loopback HTTP server stands in for Slack; the local worker delivers the topic."""
    from alerting_helpers import deliver as deliver_notifications
    from loopback_receiver import LoopbackReceiver

    from chalicelib.alerts.settings import alert_settings
    monkeypatch.setenv("DASHBOARD_URL", "https://dash.example.com")
    monkeypatch.setenv("NOTIFY_BACKOFF_S", "0.01")
    alert_settings.cache_clear()
    slack = LoopbackReceiver.start()
    try:
        status, channel, _ = call(client, "POST", "/api/channels", {"name": "ops", "type": "slack",
                                                                    "url": slack.url("/services/T0/B0/x")})
        assert status == 201, channel
        opened = deliver(client, sample())
        assert deliver_notifications(store) == 1
        [message] = slack.wait_for(1)
        text = json.dumps(message.json())
        assert "ServerCpuTooHigh in ALARM" in text
        assert f"https://dash.example.com/#/incidents?id={opened['incidentId']}" in text
        _, etag = detail(client, opened["incidentId"])
        call(client, "PATCH", f"/api/incidents/{opened['incidentId']}", {"assignee": "ana"}, {"if-match": etag})
        assert deliver_notifications(store) == 0  # an assignment is not worth a message
        _, etag = detail(client, opened["incidentId"])
        call(client, "PATCH", f"/api/incidents/{opened['incidentId']}", {"status": "resolved"}, {"if-match": etag})
        assert deliver_notifications(store) == 1
        assert "RESOLVED" in slack.wait_for(2)[1].json()["text"]
    finally:
        slack.stop()
        alert_settings.cache_clear()


def test_ok_of_an_alarm_without_an_incident_is_remembered_so_an_older_alarm_opens_nothing(client):
    t0 = now_utc() - timedelta(minutes=10)
    assert deliver(client, state_change("OK", t0, event_id="n-2", previous="ALARM"))["outcome"] == "no-incident"
    assert deliver(client, state_change("ALARM", t0 - timedelta(minutes=1), event_id="n-1"))["outcome"] == "late"
    assert incidents(client) == []


def test_the_severity_of_alarm_incidents_is_a_setting(client, monkeypatch):
    monkeypatch.setenv("INCIDENTS_ALARM_SEVERITY", "CRITICAL")
    opened = deliver(client, sample())
    assert detail(client, opened["incidentId"])[0]["severity"] == "CRITICAL"


def test_an_unchanged_incident_answers_304_to_its_etag(client):
    incident = declare(client)
    _, etag = detail(client, incident["id"])
    reply = client.http.get(f"/api/incidents/{incident['id']}", headers={"if-none-match": etag})
    assert reply.status_code == 304 and reply.headers["ETag"] == etag
    call(client, "POST", f"/api/incidents/{incident['id']}/notes", {"text": "a note is a change"})
    assert client.http.get(f"/api/incidents/{incident['id']}", headers={"if-none-match": etag}).status_code == 200
