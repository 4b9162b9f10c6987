"""What people read: alert messages with the value and threshold, readable Slack messages,
SNS-safe subjects, emails, signed webhooks."""
import json

from chalicelib.alerts.delivery import signature, verify_signature
from chalicelib.alerts.messages import alert_message, alert_type, email_text, slack_payload, subject
from chalicelib.alerts.models import parse_rule

CPU = parse_rule({"name": "CPU hot", "kind": "threshold", "source": "metric", "host": "*",
                  "metric": "cpu.percent", "op": ">", "value": 90, "recover": 80, "severity": "HIGH",
                  "runbookUrl": "https://wiki.example.com/cpu"})
DROP = parse_rule({"name": "Revenue drop", "kind": "change", "kpi": "revenue", "window": "1h",
                   "compare": "same_hour_last_week", "op": "<", "percent": -20, "severity": "HIGH"})


def notification(**over):
    alert = {"id": "a1", "labels": {"host": "web-1", "metric": "cpu.percent"}, "state": "firing",
             "severity": "HIGH", "value": 97.5, "message": "cpu.percent on web-1 is 97.50 (> 90)",
             "startsAt": 1_781_179_200_000, "endsAt": None}
    base = {"type": "mission-control.alerts", "version": 1, "notificationId": "n1", "status": "firing",
            "rule": {"id": "r1", "name": "CPU hot", "severity": "HIGH", "category": "system",
                     "runbookUrl": "https://wiki.example.com/cpu"},
            "channels": ["c1"], "firing": [alert], "resolved": [], "more": {"firing": 0, "resolved": 0},
            "dashboardUrl": "https://dash.example.com", "createdAt": 1_781_179_500_000}
    return {**base, **over}


def test_an_alert_message_says_what_where_the_value_and_the_threshold():
    labels = {"host": "web-1", "metric": "cpu.percent"}
    assert alert_message(CPU, "firing", 97.5, labels, {}) == "cpu.percent on web-1 is 97.50 (> 90)"
    assert alert_message(CPU, "resolved", 72, labels, {}) == "cpu.percent on web-1 is 72, back past 80"
    text = alert_message(DROP, "firing", -35.2, {"kpi": "revenue"},
                         {"current": 12_000, "previous": 18_519, "currency": "EUR"})
    assert text == ("revenue over the last 1h is 120.00 EUR, -35.2 % against the same time last week "
                    "(185.19 EUR); alert < -20 %")


def test_seed_000_types_follow_severity_and_state():
    assert [alert_type("CRITICAL", "firing"), alert_type("MEDIUM", "firing"), alert_type("LOW", "firing"),
            alert_type("HIGH", "pending"), alert_type("HIGH", "resolved")] == [
        "error", "warning", "info", "info", "success"]


def test_a_slack_message_shows_severity_what_where_value_since_and_links():
    payload = slack_payload(notification())
    text = json.dumps(payload)
    assert payload["text"].startswith("🟠 [FIRING:1] CPU hot (HIGH)")
    assert "*web-1* cpu.percent on web-1 is 97.50 (> 90)" in text
    assert "since 2026-06-11 12:00 UTC" in text
    assert "https://dash.example.com/#/alerts?alert=a1" in text
    assert "<https://wiki.example.com/cpu|Runbook>" in text


def test_a_group_lists_firing_and_resolved_and_counts_what_it_does_not_list():
    resolved = dict(notification()["firing"][0], state="resolved", endsAt=1_781_179_500_000)
    n = notification(resolved=[resolved], more={"firing": 12, "resolved": 0})
    assert subject(n) == "[FIRING:13 RESOLVED:1] CPU hot (HIGH)"
    assert "…and 12 more" in json.dumps(slack_payload(n), ensure_ascii=False)
    mail = email_text(n)
    assert "Firing:" in mail and "Resolved:" in mail and "Runbook: https://wiki.example.com/cpu" in mail


def test_subjects_are_what_sns_accepts_ascii_at_most_100_characters():
    long = notification(rule={**notification()["rule"], "name": "Überlast " + "x" * 200})
    text = subject(long)
    assert len(text) <= 100 and text.isascii() and "\n" not in text


def test_a_webhook_signature_is_an_hmac_of_timestamp_and_body_and_a_stale_one_is_refused():
    body = b'{"a":1}'
    sig = signature("s3cret", 1_781_179_200, body)
    assert verify_signature("s3cret", "1781179200", body, sig, now_s=1_781_179_260)
    assert not verify_signature("s3cret", "1781179200", body + b" ", sig, now_s=1_781_179_260)
    assert not verify_signature("other", "1781179200", body, sig, now_s=1_781_179_260)
    assert not verify_signature("s3cret", "1781179200", body, sig, now_s=1_781_179_200 + 3600)
