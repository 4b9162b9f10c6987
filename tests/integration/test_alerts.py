"""Alerting through the app as clients and AWS reach it: the REST API (chalice.test.Client),
``evaluateAlerts`` invoked with EventBridge's scheduled events, and ``notifyChannels`` with
SNS events delivered by the local worker. Loopback HTTP servers stand in for Slack and for a
webhook receiver; nothing is mocked."""
from __future__ import annotations

import json
import threading

import pytest
from alerting_helpers import (MIN, deliver, evaluate, fire_load_alert, get, minute_now, post, put, remove_default_rules,
                              scheduled, send_samples)
from loopback_receiver import LoopbackReceiver

from chalicelib.alerts.delivery import verify_signature
from chalicelib.local.dev_issuer import DEMO_USERS
from tests.shared_data import AWS_EVENTS

SNS_SAMPLE = AWS_EVENTS / "aws-lambda-go__sns-event.json"
LOAD = {"name": "Load high", "kind": "threshold", "source": "metric", "host": "*", "metric": "load.1m",
        "op": ">", "value": 4, "recover": 2, "severity": "CRITICAL", "for": "0s",
        "runbookUrl": "https://wiki.example.com/load"}


@pytest.fixture(autouse=True)
def alerting_settings(monkeypatch, tmp_path):
    """Quick back-off so retried deliveries do not sleep seconds; email into a temp outbox."""
    from chalicelib.alerts.settings import alert_settings
    monkeypatch.setenv("NOTIFY_BACKOFF_S", "0.01")
    monkeypatch.setenv("NOTIFY_TIMEOUT_S", "5")
    monkeypatch.setenv("DASHBOARD_URL", "https://dash.example.com")
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "outbox"))
    alert_settings.cache_clear()
    yield tmp_path / "outbox"
    alert_settings.cache_clear()


@pytest.fixture
def slack():
    receiver = LoopbackReceiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def hook():
    receiver = LoopbackReceiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def store(api):
    from chalicelib.storage import default_store
    return default_store()


def as_role(issuer, role: str) -> dict:
    return {"authorization": f"Bearer {issuer.token(role)}"}


def create_channels(api, slack, hook) -> tuple[str, str]:
    status, s = post(api, "/api/channels", {"name": "ops", "type": "slack", "url": slack.url("/services/T0/B0/x")})
    assert status == 201, s
    status, h = post(api, "/api/channels", {"name": "hooks", "type": "webhook", "url": hook.url("/hook"),
                                            "secret": "s3cret"})
    assert status == 201, h
    return s["id"], h["id"]


# -- rules ------------------------------------------------------------------------------------------
def test_a_fresh_install_has_default_rules_each_removable_for_good(api):
    status, body = get(api, "/api/alert-rules")
    names = {r["name"] for r in body["rules"]}
    assert {"Revenue drop", "CPU hot", "Memory hot", "Disk almost full", "Host silent", "Web app errors",
            "Web app slow"} <= names
    revenue = next(r for r in body["rules"] if r["name"] == "Revenue drop")
    assert (revenue["kind"], revenue["compare"], revenue["percent"], revenue["category"]) == (
        "change", "yesterday", -20, "business")
    assert api.http.delete(f"/api/alert-rules/{revenue['id']}").status_code == 204
    evaluate(api, minute_now())
    assert "Revenue drop" not in {r["name"] for r in get(api, "/api/alert-rules")[1]["rules"]}


@pytest.mark.parametrize("body", [
    {"name": "CPU hot", "kind": "threshold", "source": "metric", "host": "*", "metric": "cpu.percent", "op": ">",
     "value": 90, "for": "5m", "recover": 80, "severity": "HIGH"},
    {"name": "Revenue drop", "kind": "change", "source": "kpi", "kpi": "revenue", "window": "1h",
     "compare": "same_hour_last_week", "op": "<", "percent": -20, "minVolume": 10, "severity": "HIGH"},
    {"name": "Host silent", "kind": "absence", "host": "*", "intervals": 3, "severity": "CRITICAL"},
])
def test_the_issue_s_rule_bodies_are_created_exactly_as_written(api, body):
    status, rule = post(api, "/api/alert-rules", body)
    assert status == 201, rule
    assert {k: rule[k] for k in body} == body
    assert get(api, f"/api/alert-rules/{rule['id']}")[1] == rule


def test_a_bad_rule_is_a_400_naming_the_field_and_writes_nothing(api):
    before = get(api, "/api/alert-rules")[1]
    status, body = post(api, "/api/alert-rules", {**LOAD, "for": "2 days"})
    assert status == 400
    assert body["error"]["code"] == "invalid_input" and body["error"]["details"][0]["field"] == "for"
    status, body = post(api, "/api/alert-rules", {**LOAD, "channels": ["nope"]})
    assert (status, body["error"]["details"][0]["field"]) == (400, "channels")
    assert post(api, "/api/alert-rules", [LOAD])[0] == 400
    assert get(api, "/api/alert-rules")[1] == before


def test_rules_are_read_by_viewers_and_changed_by_admins_only(api, issuer):
    assert get(api, "/api/alert-rules", as_role(issuer, "viewer"))[0] == 200
    status, body = post(api, "/api/alert-rules", LOAD, as_role(issuer, "operator"))
    assert status == 403 and body["error"]["details"][0]["required"] == "admin"
    status, rule = post(api, "/api/alert-rules", LOAD)
    status, changed = put(api, f"/api/alert-rules/{rule['id']}", {**LOAD, "value": 8})
    assert status == 200 and changed["value"] == 8 and changed["createdAt"] == rule["createdAt"]
    assert put(api, "/api/alert-rules/missing", LOAD)[0] == 404
    assert api.http.delete(f"/api/alert-rules/{rule['id']}", headers=as_role(issuer, "operator")).status_code == 403


# -- channels -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    {"name": "ops", "type": "slack", "url": "https://hooks.slack.com/services/T0/B0/x"},
    {"name": "hooks", "type": "webhook", "url": "https://example.com/hook", "secret": "s3cret"},
    {"name": "oncall", "type": "email", "address": "oncall@example.com"},
])
def test_the_issue_s_channel_bodies_are_accepted_and_their_secrets_never_come_back(api, body):
    reply = api.http.post("/api/channels", headers={"content-type": "application/json"}, body=json.dumps(body))
    assert reply.status_code == 201, reply.body
    listed = api.http.get("/api/channels").body.decode()
    for text in (reply.body.decode(), listed):
        assert "s3cret" not in text and "/services/T0/B0/x" not in text
    created = json.loads(reply.body)
    assert created["name"] == body["name"] and created["type"] == body["type"]
    if body["type"] == "email":
        assert created["address"] == "oncall@example.com"
    else:
        assert created["target"] in ("https://hooks.slack.com", "https://example.com")
    assert created.get("secretSet", True)


def test_channels_are_for_admins_only(api, issuer):
    assert get(api, "/api/channels", as_role(issuer, "operator"))[0] == 403
    assert post(api, "/api/channels", {"name": "x", "type": "email", "address": "a@b.co"},
                as_role(issuer, "operator"))[0] == 403


def test_a_test_message_reaches_slack_and_an_update_without_the_url_keeps_it(api, slack):
    status, channel = post(api, "/api/channels", {"name": "ops", "type": "slack", "url": slack.url("/services/T/B/1")})
    status, answer = post(api, f"/api/channels/{channel['id']}/test", {})
    assert (status, answer["status"], answer["httpStatus"]) == (200, "delivered", 200)
    [first] = slack.wait_for(1)
    assert first.path == "/services/T/B/1" and "[TEST]" in first.json()["text"]
    status, renamed = put(api, f"/api/channels/{channel['id']}", {"name": "ops-renamed", "type": "slack"})
    assert status == 200 and renamed["name"] == "ops-renamed"
    post(api, f"/api/channels/{channel['id']}/test", {})
    assert slack.wait_for(2)[1].path == "/services/T/B/1"
    status, log = get(api, "/api/notifications")
    assert [d["status"] for d in log["deliveries"]] == ["delivered", "delivered"]
    assert "/services/T/B/1" not in json.dumps(log)


def test_in_prod_a_channel_url_on_a_private_or_loopback_address_is_refused(api, slack, monkeypatch):
    import chalicelib.alerts.routes as routes
    monkeypatch.setattr(routes, "outbound_allows_private", lambda: False)
    for url in (slack.url("/x"), "https://127.0.0.1/x", "https://10.1.2.3/hook", "https://169.254.169.254/latest",
                "https://[::1]/x", "https://localhost/x", "http://example.com/x"):
        status, body = post(api, "/api/channels", {"name": "evil", "type": "webhook", "url": url, "secret": "k"})
        assert (status, body["error"]["details"][0]["field"]) == (400, "url"), url
    assert get(api, "/api/channels")[1]["channels"] == []


def test_a_channel_that_rules_send_to_cannot_be_removed_until_they_change(api, slack):
    channel = post(api, "/api/channels", {"name": "ops", "type": "slack", "url": slack.url("/s")})[1]
    rule = post(api, "/api/alert-rules", {**LOAD, "channels": [channel["id"]]})[1]
    refused = api.http.delete(f"/api/channels/{channel['id']}")
    assert refused.status_code == 409 and "Load high" in json.loads(refused.body)["error"]["details"][0]["message"]
    api.http.delete(f"/api/alert-rules/{rule['id']}")
    assert api.http.delete(f"/api/channels/{channel['id']}").status_code == 204


# -- evaluation and notifications -----------------------------------------------------------------------
def test_an_alert_fires_once_grouped_then_resolves_once_past_recover(api, store, slack, hook):
    remove_default_rules(api)
    create_channels(api, slack, hook)
    rule = post(api, "/api/alert-rules", LOAD)[1]
    t0 = minute_now() - 30 * MIN

    send_samples(api, t0 - 2_000, {"web-1": {"load.1m": 6.5}, "web-2": {"load.1m": 7.0}})
    report = evaluate(api, t0)
    assert (report["rules"], report["series"], report["notifications"]) == (1, 2, 1)
    assert deliver(store) == 1
    [message] = slack.wait_for(1)
    text = json.dumps(message.json(), ensure_ascii=False)
    assert "[FIRING:2] Load high (CRITICAL)" in message.json()["text"]
    assert "*web-1* load.1m on web-1 is 6.5 (> 4)" in text and "*web-2*" in text
    assert "<https://wiki.example.com/load|Runbook>" in text and "https://dash.example.com/#/alerts" in text
    [signed] = hook.wait_for(1)
    assert verify_signature("s3cret", signed.headers["X-MissionControl-Timestamp"], signed.body,
                            signed.headers["X-MissionControl-Signature"],
                            now_s=int(signed.headers["X-MissionControl-Timestamp"]))
    assert signed.json()["status"] == "firing" and len(signed.json()["firing"]) == 2

    # EventBridge delivers the same event again: nothing changes, nobody is told again.
    before = get(api, "/api/alerts?state=all")[1]
    again = evaluate(api, t0)
    assert again["alreadyEvaluated"] == 1 and again["rules"] == 0
    assert deliver(store) == 0 and get(api, "/api/alerts?state=all")[1] == before

    # Still high a minute later: within the repeat interval, no repeat.
    send_samples(api, t0 + MIN - 2_000, {"web-1": {"load.1m": 6.0}, "web-2": {"load.1m": 6.0}})
    assert evaluate(api, t0 + MIN)["notifications"] == 0

    # web-1 drops between recover and threshold: still firing; web-2 goes past recover: resolved.
    send_samples(api, t0 + 2 * MIN - 2_000, {"web-1": {"load.1m": 3.0}, "web-2": {"load.1m": 1.0}})
    assert evaluate(api, t0 + 2 * MIN)["notifications"] == 1
    deliver(store)
    resolved = slack.wait_for(2)[1].json()
    assert resolved["text"].endswith("[RESOLVED:1] Load high (CRITICAL)")
    assert "web-2" in json.dumps(resolved) and "web-1" not in json.dumps(resolved)

    alerts = {a["labels"]["host"]: a for a in get(api, "/api/alerts?state=all")[1]["alerts"]}
    assert alerts["web-1"]["state"] == "firing" and alerts["web-1"]["value"] == 3.0
    assert alerts["web-2"]["state"] == "resolved" and alerts["web-2"]["endsAt"] == t0 + 2 * MIN
    assert alerts["web-2"]["type"] == "success" and alerts["web-1"]["type"] == "error"
    assert alerts["web-1"]["ruleId"] == rule["id"] and alerts["web-1"]["category"] == "system"
    detail = get(api, f"/api/alerts/{alerts['web-2']['id']}")[1]
    assert [(h["from"], h["to"]) for h in detail["history"]] == [("inactive", "firing"), ("firing", "resolved")]
    assert len(slack.requests) == 2 and len(hook.wait_for(2)) == 2


def test_a_silent_host_puts_its_alert_in_no_data_not_resolved(api, store, slack, hook):
    create_channels(api, slack, hook)
    t0 = fire_load_alert(api, LOAD, minutes_ago=30)
    evaluate(api, t0 + 10 * MIN)  # nothing sent for ten minutes
    [alert] = get(api, "/api/alerts?state=all")[1]["alerts"]
    assert alert["state"] == "nodata" and alert["value"] == 6.5 and alert["endsAt"] is None
    assert get(api, "/api/alerts?state=nodata")[1]["alerts"][0]["id"] == alert["id"]
    deliver(store)
    assert len(slack.requests) == 1  # the firing, nothing for no data


def test_a_firing_alert_is_repeated_after_the_repeat_interval_unless_acknowledged(api, store, slack, hook, issuer):
    remove_default_rules(api)
    create_channels(api, slack, hook)
    post(api, "/api/alert-rules", {**LOAD, "repeatInterval": "2m"})
    t0 = minute_now() - 30 * MIN
    for m in range(3):
        send_samples(api, t0 + m * MIN - 2_000, {"web-1": {"load.1m": 6.5}})
        evaluate(api, t0 + m * MIN)
    deliver(store)
    assert len(slack.wait_for(2)) == 2  # at 0 and, repeated, at 2

    [alert] = get(api, "/api/alerts?state=firing")[1]["alerts"]
    assert post(api, f"/api/alerts/{alert['id']}/ack", {"comment": "on it"}, as_role(issuer, "viewer"))[0] == 403
    status, body = post(api, f"/api/alerts/{alert['id']}/ack", {"comment": "on it", "expiresAt": 1_000_000_000_000},
                        as_role(issuer, "operator"))
    assert (status, body["error"]["details"][0]["field"]) == (400, "expiresAt")
    status, acked = post(api, f"/api/alerts/{alert['id']}/ack", {"comment": "on it"}, as_role(issuer, "operator"))
    assert status == 200 and acked["acknowledged"] and acked["ack"]["comment"] == "on it"
    assert acked["ack"]["by"] == DEMO_USERS["operator"].sub and acked["ack"]["name"] == DEMO_USERS["operator"].name
    for m in range(3, 8):
        send_samples(api, t0 + m * MIN - 2_000, {"web-1": {"load.1m": 6.5}})
        evaluate(api, t0 + m * MIN)
    deliver(store)
    assert len(slack.requests) == 2  # acknowledged: no repeat
    history = get(api, f"/api/alerts/{alert['id']}")[1]["history"]
    assert [h["to"] for h in history] == ["firing", "acknowledged"] and history[1]["comment"] == "on it"

    send_samples(api, t0 + 8 * MIN - 2_000, {"web-1": {"load.1m": 1.0}})
    evaluate(api, t0 + 8 * MIN)
    deliver(store)
    assert "RESOLVED" in slack.wait_for(3)[2].json()["text"]  # the end is still told
    status, body = post(api, f"/api/alerts/{alert['id']}/ack", {"comment": "late"}, as_role(issuer, "operator"))
    assert status == 409


def test_a_silenced_alert_changes_state_and_is_listed_but_is_not_told(api, store, slack, hook, issuer):
    remove_default_rules(api)
    create_channels(api, slack, hook)
    post(api, "/api/alert-rules", LOAD)
    t0 = minute_now() - 30 * MIN
    status, silence = post(api, "/api/silences", {
        "matchers": [{"name": "host", "value": "web-1"}], "startsAt": t0 - MIN, "endsAt": t0 + 60 * MIN,
        "comment": "maintenance"}, as_role(issuer, "operator"))
    assert status == 201 and silence["active"] and silence["createdBy"] == DEMO_USERS["operator"].sub
    assert post(api, "/api/silences", {"matchers": [], "endsAt": t0, "comment": "x"}, as_role(issuer, "operator"))[0] == 400
    send_samples(api, t0 - 2_000, {"web-1": {"load.1m": 6.5}, "web-2": {"load.1m": 6.5}})
    evaluate(api, t0)
    deliver(store)
    [message] = slack.wait_for(1)
    assert "web-2" in json.dumps(message.json()) and "web-1" not in json.dumps(message.json())
    listed = {a["labels"]["host"]: a for a in get(api, "/api/alerts?state=firing")[1]["alerts"]}
    assert listed["web-1"]["silencedBy"] == [silence["id"]] and listed["web-2"]["silencedBy"] == []
    assert get(api, "/api/silences", as_role(issuer, "viewer"))[1]["silences"][0]["comment"] == "maintenance"
    assert api.http.delete(f"/api/silences/{silence['id']}", headers=as_role(issuer, "viewer")).status_code == 403
    assert api.http.delete(f"/api/silences/{silence['id']}", headers=as_role(issuer, "operator")).status_code == 200


def test_alerts_are_listed_newest_first_filtered_and_paged(api, store):
    remove_default_rules(api)
    post(api, "/api/alert-rules", LOAD)
    post(api, "/api/alert-rules", {**LOAD, "name": "Load warm", "value": 3, "recover": 1, "severity": "LOW"})
    t0 = minute_now() - 30 * MIN
    for n in range(3):
        send_samples(api, t0 + n * MIN - 2_000, {f"web-{h}": {"load.1m": 6.5} for h in range(n + 1)})
        evaluate(api, t0 + n * MIN)
    status, page = get(api, "/api/alerts?state=firing&limit=4")
    assert status == 200 and len(page["alerts"]) == 4 and page["cursor"]
    rest = get(api, f"/api/alerts?state=firing&limit=4&cursor={page['cursor']}")[1]
    assert len(rest["alerts"]) == 2 and rest["cursor"] is None
    starts = [a["startsAt"] for a in page["alerts"] + rest["alerts"]]
    assert starts == sorted(starts, reverse=True)
    critical = get(api, "/api/alerts?severity=CRITICAL&category=system")[1]["alerts"]
    assert len(critical) == 3 and {a["severity"] for a in critical} == {"CRITICAL"}
    assert get(api, "/api/alerts?category=business")[1]["alerts"] == []
    for bad, field in (("state=burning", "state"), ("severity=SEVERE", "severity"), ("limit=0", "limit"),
                       ("cursor=abc", "cursor")):
        status, body = get(api, f"/api/alerts?{bad}")
        assert (status, body["error"]["details"][0]["field"]) == (400, field), bad
    counts = get(api, "/api/alert-counts")[1]
    assert counts["firing"] == 6 and counts["firingBySeverity"]["CRITICAL"] == 3


def test_each_alert_has_the_fields_seed_000_and_the_issue_name(api):
    fire_load_alert(api, LOAD)
    [alert] = get(api, "/api/alerts")[1]["alerts"]
    assert {"id", "ruleId", "name", "labels", "state", "severity", "type", "category", "message", "value",
            "startsAt", "endsAt", "acknowledged"} <= set(alert)
    assert alert["message"] == "load.1m on web-1 is 6.5 (> 4)"


# -- SNS --------------------------------------------------------------------------------------------
def test_the_sns_handler_ignores_a_message_that_is_not_ours(api):
    event = json.loads(SNS_SAMPLE.read_text())  # aws-lambda-go's test event: "Hello from SNS!"
    assert api.lambda_.invoke("notifyChannels", event).payload == {"ignored": 1}


def test_a_redelivered_sns_message_is_delivered_once_to_each_channel(api, store, slack, hook):
    create_channels(api, slack, hook)
    fire_load_alert(api, LOAD)
    from chalicelib.local.sns import LocalTopic
    topic = LocalTopic(store, "mission-control-alerts")
    [message] = topic.pending()
    event = topic.event(message)
    first = api.lambda_.invoke("notifyChannels", event).payload
    second = api.lambda_.invoke("notifyChannels", event).payload
    assert first["delivered"] == 2 and second == {"delivered": 0, "failed": 0, "byTopic": 0, "alreadyDone": 2}
    assert len(slack.requests) == 1 and len(hook.requests) == 1


def test_one_failing_and_one_slow_channel_never_delay_the_others(api, store, slack, hook):
    good, failing = slack, hook
    slow = LoopbackReceiver.start()
    try:
        post(api, "/api/channels", {"name": "good", "type": "slack", "url": good.url("/good")})
        post(api, "/api/channels", {"name": "failing", "type": "webhook", "url": failing.url("/f"), "secret": "k"})
        post(api, "/api/channels", {"name": "slow", "type": "slack", "url": slow.url("/slow")})
        failing.always(503)
        slow.hold()
        fire_load_alert(api, LOAD)
        worker = threading.Thread(target=deliver, args=(store,))
        worker.start()
        slow.wait_for(1)
        good.wait_for(1)  # delivered while the slow receiver still holds its request
        assert failing.wait_for(3)  # every attempt made (3, with back-off) while slow still holds
        assert slow.answered == 0
        slow.release()
        worker.join()
    finally:
        slow.stop()
    log = {d["channelName"]: d for d in get(api, "/api/notifications")[1]["deliveries"]}
    assert (log["good"]["status"], log["good"]["attempts"]) == ("delivered", 1)
    assert (log["failing"]["status"], log["failing"]["attempts"], log["failing"]["httpStatus"]) == ("failed", 3, 503)
    assert log["slow"]["status"] == "delivered"


def test_a_channel_that_fails_then_recovers_gets_the_message_on_a_retry(api, store, slack):
    post(api, "/api/channels", {"name": "ops", "type": "slack", "url": slack.url("/s")})
    slack.fail_next(2, status=500)
    fire_load_alert(api, LOAD)
    deliver(store)
    assert len(slack.wait_for(3)) == 3
    [entry] = get(api, "/api/notifications")[1]["deliveries"]
    assert (entry["status"], entry["attempts"]) == ("delivered", 3)


def test_email_goes_through_the_topic_to_the_outbox_as_an_eml_a_person_can_open(api, store, alerting_settings):
    import email
    status, channel = post(api, "/api/channels", {"name": "oncall", "type": "email", "address": "oncall@example.com"})
    fire_load_alert(api, LOAD)
    deliver(store)
    [path] = list(alerting_settings.glob("*.eml"))
    mail = email.message_from_bytes(path.read_bytes())
    assert mail["To"] == "oncall@example.com" and mail["Subject"] == "[FIRING:1] Load high (CRITICAL)"
    assert "load.1m on web-1 is 6.5 (> 4)" in mail.get_payload(decode=True).decode()
    [entry] = get(api, "/api/notifications")[1]["deliveries"]
    assert (entry["channelName"], entry["status"]) == ("oncall", "by-topic")
    status, answer = post(api, f"/api/channels/{channel['id']}/test", {})
    assert status == 202 and answer["status"] == "published"
    deliver(store)
    assert len(list(alerting_settings.glob("*.eml"))) == 2


def test_on_aws_evaluation_publishes_to_sns_with_an_email_variant_and_email_channels_subscribe_with_a_filter(monkeypatch):
    boto3 = pytest.importorskip("boto3")
    from moto import mock_aws

    from chalicelib.alerts.topic import SnsTopic
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        arn = boto3.client("sns").create_topic(Name="mission-control-alerts")["TopicArn"]
        topic = SnsTopic("mission-control-alerts")
        assert topic.arn == arn  # found from the account and region, as on Lambda
        subscription = topic.subscribe_email("oncall@example.com", "c1")
        attributes = boto3.client("sns").get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
        assert json.loads(attributes["FilterPolicy"]) == {"channels": ["c1"]}
        message_id = topic.publish("[FIRING:1] Load high (CRITICAL)", {"type": "mission-control.alerts"},
                                   "text for people", ["c1"])
        assert message_id
        from moto.sns.models import sns_backends
        sent = sns_backends["123456789012"]["us-east-1"].topics[arn].sent_notifications
        _id, message, subject, attributes, _group = sent[0]
        assert json.loads(json.loads(message)["default"]) == {"type": "mission-control.alerts"}
        assert json.loads(message)["email"] == "text for people"
        # What SNS hands subscribers, and what the local emulation hands the handler too:
        assert attributes["channels"] == {"Type": "String.Array", "Value": '["c1"]'}
        topic.unsubscribe(subscription)


# -- system health ------------------------------------------------------------------------------------
def test_system_health_shows_probes_with_their_last_hour_and_the_evaluation_time(api, monkeypatch):
    from chalicelib.system.settings import health_settings
    up, down = LoopbackReceiver.start(), LoopbackReceiver.start()
    down.always(503)
    try:
        monkeypatch.setenv("HEALTH_PROBES", f"payments={down.url('/status')},cdn={up.url('/')}")
        health_settings.cache_clear()
        t0 = minute_now()
        api.lambda_.invoke("probeHealth", scheduled(t0 - MIN, "probeHealth"))
        api.lambda_.invoke("probeHealth", scheduled(t0, "probeHealth"))
        remove_default_rules(api)
        post(api, "/api/alert-rules", {"name": "Payments down", "kind": "probe", "probe": "payments",
                                       "severity": "CRITICAL"})
        evaluate(api, t0)
        status, health = get(api, "/api/system-health")
    finally:
        health_settings.cache_clear()
        up.stop()
        down.stop()
    components = {c["name"]: c for c in health["components"]}
    assert components["api"]["status"] == "ok" and components["store"]["status"] == "ok"
    assert components["payments"]["status"] == "down" and components["payments"]["httpStatus"] == 503
    assert components["cdn"]["status"] == "ok" and len(components["cdn"]["lastHour"]) == 2
    assert health["status"] == "degraded"
    run = next(s for s in health["schedules"] if s["job"] == "evaluateAlerts")
    assert run["outcome"] == "ok" and run["detail"]["durationMs"] >= 0 and run["detail"]["rules"] == 1
    [alert] = get(api, "/api/alerts?state=firing")[1]["alerts"]
    assert alert["labels"] == {"probe": "payments"} and alert["message"] == "payments is down (HTTP 503)"


def test_a_revenue_drop_against_yesterday_fires_from_the_kpi_roll_ups_and_a_quiet_hour_does_not(api):
    remove_default_rules(api)
    post(api, "/api/alert-rules", {"name": "Revenue drop", "kind": "change", "source": "kpi", "kpi": "revenue",
                                   "window": "1h", "compare": "yesterday", "op": "<", "percent": -20,
                                   "minVolume": 10, "severity": "HIGH"})
    now = minute_now()
    hour = now - now % (60 * MIN)

    def purchases(start: int, n: int, amount: int, tag: str) -> list[dict]:
        return [{"orderId": f"{tag}-{i}", "productId": "pro", "productName": "Pro", "amount": amount,
                 "currency": "USD", "userId": f"u{i}", "timestamp": start + 10 * MIN + i * 1_000} for i in range(n)]

    def ingest(events):
        reply = api.http.post("/api/ingest/purchase", headers={"content-type": "application/json"},
                              body=json.dumps(events))
        assert reply.status_code == 200, reply.body

    ingest(purchases(hour - 25 * 60 * MIN, 20, 1_000, "yesterday"))  # 200.00 USD the same hour yesterday
    ingest(purchases(hour - 60 * MIN, 12, 500, "today"))  # 60.00 USD in the last complete hour
    evaluate(api, now)
    [alert] = get(api, "/api/alerts?state=firing&category=business")[1]["alerts"]
    assert alert["value"] == -70.0 and alert["labels"] == {"kpi": "revenue"} and alert["type"] == "error"
    assert alert["message"] == ("revenue over the last 1h is 60.00 USD, -70.0 % against the same time "
                                "yesterday (200.00 USD); alert < -20 %")

    remove_default_rules(api)  # the same drop on a quiet night: 4 orders against 6
    post(api, "/api/alert-rules", {"name": "Quiet", "kind": "change", "source": "kpi", "kpi": "orders",
                                   "window": "2h", "compare": "previous_period", "op": "<", "percent": -20,
                                   "minVolume": 50, "severity": "HIGH"})
    evaluate(api, now + MIN)
    assert [a for a in get(api, "/api/alerts?state=firing")[1]["alerts"] if a["name"] == "Quiet"] == []
