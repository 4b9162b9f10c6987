"""EventBridge pattern matching as the local bus applies it (AWS's documented rules)."""
import pytest

from chalicelib.local.event_bus import BadEvent, envelope, event_matches

ALARM = {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
         "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"],
         "detail": {"alarmName": "ServerCpuTooHigh", "state": {"value": "ALARM"}, "threshold": 50}}
OUR_RULE = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}


def test_our_rule_matches_alarm_state_changes_only():
    assert event_matches(OUR_RULE, ALARM)
    assert not event_matches(OUR_RULE, {**ALARM, "detail-type": "CloudWatch Alarm Configuration Change"})
    assert not event_matches(OUR_RULE, {**ALARM, "source": "aws.ec2"})
    assert not event_matches(OUR_RULE, {"source": "aws.cloudwatch"})


@pytest.mark.parametrize("pattern,expected", [
    ({"detail": {"state": {"value": ["ALARM", "OK"]}}}, True),
    ({"detail": {"state": {"value": ["OK"]}}}, False),
    ({"detail": {"alarmName": [{"prefix": "Server"}]}}, True),
    ({"detail": {"alarmName": [{"prefix": "Disk"}]}}, False),
    ({"detail": {"alarmName": [{"suffix": "High"}]}}, True),
    ({"detail": {"alarmName": [{"equals-ignore-case": "servercputoohigh"}]}}, True),
    ({"detail": {"state": {"value": [{"anything-but": "OK"}]}}}, True),
    ({"detail": {"state": {"value": [{"anything-but": ["ALARM", "OK"]}]}}}, False),
    ({"detail": {"alarmName": [{"anything-but": {"prefix": "Server"}}]}}, False),
    ({"detail": {"threshold": [{"numeric": [">", 10, "<=", 50]}]}}, True),
    ({"detail": {"threshold": [{"numeric": [">", 50]}]}}, False),
    ({"detail": {"threshold": [50]}}, True),
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"detail": {"missing": [{"exists": True}]}}, False),
    ({"detail": {"alarmName": [{"exists": True}]}}, True),
    ({"detail": {"alarmName": [{"exists": False}]}}, False),
    ({"detail": {"missing": ["x"]}}, False),
    ({"resources": [{"prefix": "arn:aws:cloudwatch:"}]}, True),  # any element of an array field
    ({"resources": ["arn:aws:s3:::b"]}, False),
])
def test_pattern_rules(pattern, expected):
    assert event_matches(pattern, ALARM) is expected


def test_every_field_of_a_pattern_must_match():
    assert not event_matches({**OUR_RULE, "detail": {"state": {"value": ["OK"]}}}, ALARM)


def test_envelope_fills_id_time_account_and_region_and_keeps_what_is_given():
    event = envelope(ALARM, 1_700_000_000)
    assert event["id"] and event["time"] == "2023-11-14T22:13:20Z"
    assert (event["account"], event["region"], event["version"]) == ("000000000000", "local", "0")
    assert envelope({**ALARM, "id": "abc", "region": "us-east-1"}, 0)["id"] == "abc"


def test_a_put_events_entry_becomes_the_delivered_envelope():
    event = envelope({"Source": "aws.cloudwatch", "DetailType": "CloudWatch Alarm State Change",
                      "Detail": '{"alarmName": "x"}', "Resources": ["arn:r"]}, 0)
    assert event["detail"] == {"alarmName": "x"} and event["detail-type"] == "CloudWatch Alarm State Change"


@pytest.mark.parametrize("bad", [{}, {"source": "s", "detail-type": "d", "detail": "no"},
                                 {"source": "s", "detail-type": "d", "detail": {}, "resources": "r"},
                                 {"Source": "s", "DetailType": "d", "Detail": "{not json"}])
def test_what_eventbridge_refuses_is_refused(bad):
    with pytest.raises(BadEvent):
        envelope(bad, 0)
