"""Reading CloudWatch alarm state changes: the documented sample and its kinds."""
import pytest
from incident_events import anomaly_band, composite, config_change, metric_math, sample

from chalicelib.incidents.alarms import NotAnAlarmStateChange, aws_time_ms, read_alarm_change


def test_the_documented_single_metric_sample():
    change = read_alarm_change(sample())
    assert change.alarm_arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
    assert (change.kind, change.state, change.previous_state) == ("metric", "ALARM", "OK")
    assert change.state_at == aws_time_ms("2019-10-02T17:04:40.989+0000") == 1570035880989
    assert change.metrics == ["AWS/EC2 CPUUtilization"]
    assert change.console_url == ("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
                                  "#alarmsV2:alarm/ServerCpuTooHigh")


def test_metric_math_anomaly_band_and_composite_kinds():
    assert read_alarm_change(metric_math()).kind == "metric-math"
    assert read_alarm_change(metric_math()).metrics == ["Total Network Traffic", "AWS/EC2 NetworkIn", "AWS/EC2 NetworkOut"]
    assert read_alarm_change(anomaly_band()).kind == "anomaly-band"
    change = read_alarm_change(composite())
    assert change.kind == "composite" and change.metrics == []
    assert change.triggering_alarms == ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"]


def test_a_configuration_change_is_not_ours():
    with pytest.raises(NotAnAlarmStateChange):
        read_alarm_change(config_change())


@pytest.mark.parametrize("breaking", [
    lambda e: e.pop("detail"), lambda e: e.update(resources=[]), lambda e: e.update(resources=["arn:aws:s3:::x"]),
    lambda e: e["detail"]["state"].update(value="PANIC"), lambda e: e["detail"]["state"].update(timestamp="soon"),
    lambda e: e["detail"]["state"].pop("timestamp"), lambda e: e.update(id=None)])
def test_malformed_events_are_refused_clearly(breaking):
    event = sample()
    breaking(event)
    with pytest.raises(NotAnAlarmStateChange):
        read_alarm_change(event)


def test_the_console_link_takes_its_host_from_the_alarm_arn_not_the_envelope():
    event = sample()
    event["region"] = "x@evil.example#"
    assert read_alarm_change(event).console_url.startswith("https://us-east-1.console.aws.amazon.com/")
