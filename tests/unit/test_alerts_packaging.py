"""The AWS packaging carries what alerting needs: its schedules, its SNS topic and subscriber,
its tables, and the prod policy to publish and subscribe."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infrastructure"))

import build_template  # noqa: E402


def test_evaluation_and_probes_run_every_minute_and_notify_channels_subscribes_to_the_topic():
    from chalice.app import ScheduledEventConfig, SNSEventConfig

    from app import app
    sources = {s.name: s for s in app.event_sources}
    for job in ("evaluateAlerts", "probeHealth"):
        assert isinstance(sources[job], ScheduledEventConfig)
        assert sources[job].schedule_expression.to_string() == "rate(1 minute)"
    assert isinstance(sources["notifyChannels"], SNSEventConfig)
    assert build_template.topic_of(app, sources["notifyChannels"].topic) == "alerts"


def test_the_merge_template_creates_the_topic_its_subscriber_listens_to_and_the_tables():
    resources = build_template.template()["Resources"]
    assert resources["AlertsTopic"]["Properties"]["TopicName"] == {"Fn::Sub": "${AWS::StackName}-alerts"}
    # Fn::Sub on the topic's Ref: CloudFormation creates the topic first
    events = resources["NotifyChannels"]["Properties"]["Events"]
    assert events["NotifyChannelsSnsSubscription"]["Properties"]["Topic"] == {"Fn::Sub": "${AlertsTopic}"}
    env = resources["EvaluateAlerts"]["Properties"]["Environment"]["Variables"]
    assert env["ALERTS_TOPIC_ARN"] == {"Ref": "AlertsTopic"}
    for table in ("alerts", "notifications"):
        assert resources[build_template.logical_id(table)]["Properties"]["TableName"]["Fn::Sub"].endswith(table)


def test_the_chalice_deploy_policy_lets_the_app_publish_and_manage_email_subscriptions_on_the_topic_only():
    policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    [topic] = [s for s in policy["Statement"] if s.get("Sid") == "AlertsTopic"]
    assert set(topic["Action"]) == {"sns:Publish", "sns:Subscribe", "sns:Unsubscribe"}
    assert all(r.startswith("arn:aws:sns:*:*:mission-control-alerts") for r in topic["Resource"])
