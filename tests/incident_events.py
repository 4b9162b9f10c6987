"""CloudWatch alarm events for incident tests: AWS's documented samples, and variations built
from copies of them (the samples themselves are never edited)."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

from tests.shared_data import AWS_EVENTS

EVENTS = AWS_EVENTS
STATE_CHANGE = EVENTS / "awsdocs-cloudwatch-user-guide__eventbridge__state-change-for-a-single-metric-alarm.json"
CONFIG_CHANGE = EVENTS / "awsdocs-cloudwatch-user-guide__eventbridge__update-of-a-metric-alarm.json"


def sample() -> dict:
    return json.loads(STATE_CHANGE.read_text())


def config_change() -> dict:
    return json.loads(CONFIG_CHANGE.read_text())


def cw_time(at: datetime) -> str:
    """CloudWatch's own format: 2019-10-02T17:04:40.989+0000."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


def state_change(state: str, at: datetime, *, event_id: str, previous: str | None = None,
                 base: dict | None = None) -> dict:
    """The real sample moved to ``state`` at ``at`` (a new event id, as each change has)."""
    event = copy.deepcopy(base or sample())
    detail = event["detail"]
    prev = previous or detail["state"]["value"]
    detail["previousState"] = {**detail["state"], "value": prev}
    detail["state"] = {**detail["state"], "value": state, "timestamp": cw_time(at),
                       "reason": f"Threshold Crossed: moved to {state}"}
    event["id"] = event_id
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def metric_math(base: dict | None = None) -> dict:
    """The sample as a metric-math alarm (the shape the user guide documents for one)."""
    event = copy.deepcopy(base or sample())
    event["resources"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:TotalNetworkTrafficTooHigh"]
    event["detail"]["alarmName"] = "TotalNetworkTrafficTooHigh"
    event["detail"]["configuration"]["metrics"] = [
        {"expression": "m1+m2", "id": "e1", "label": "Total Network Traffic", "returnData": True},
        {"id": "m1", "metricStat": {"metric": {"dimensions": {"InstanceId": "i-12345678901234567"},
                                               "name": "NetworkIn", "namespace": "AWS/EC2"},
                                    "period": 300, "stat": "Maximum"}, "returnData": False},
        {"id": "m2", "metricStat": {"metric": {"dimensions": {"InstanceId": "i-12345678901234567"},
                                               "name": "NetworkOut", "namespace": "AWS/EC2"},
                                    "period": 300, "stat": "Maximum"}, "returnData": False}]
    return event


def anomaly_band(base: dict | None = None) -> dict:
    event = copy.deepcopy(base or sample())
    event["resources"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:EC2 CPU Utilization Anomaly"]
    event["detail"]["alarmName"] = "EC2 CPU Utilization Anomaly"
    event["detail"]["configuration"]["metrics"] = [
        {"id": "m1", "metricStat": {"metric": {"dimensions": {"InstanceId": "i-12345678901234567"},
                                               "name": "CPUUtilization", "namespace": "AWS/EC2"},
                                    "period": 60, "stat": "Average"}, "returnData": True},
        {"expression": "ANOMALY_DETECTION_BAND(m1, 0.8)", "id": "ad1",
         "label": "CPUUtilization (expected)", "returnData": True}]
    event["detail"]["configuration"]["thresholdMetricId"] = "ad1"
    return event


def composite(base: dict | None = None) -> dict:
    event = copy.deepcopy(base or sample())
    event["resources"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServiceAggregatedAlarm"]
    detail = event["detail"]
    detail["alarmName"] = "ServiceAggregatedAlarm"
    detail["configuration"] = {
        "alarmRule": "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)",
        "actionsSuppressor": "ServiceMaintenanceAlarm", "actionsSuppressorWaitPeriod": 120,
        "actionsSuppressorExtensionPeriod": 180}
    detail["state"]["reasonData"] = json.dumps({"triggeringAlarms": [
        {"arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh",
         "state": {"value": "ALARM", "timestamp": detail["state"]["timestamp"]}}]})
    return event


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


__all__ = ["sample", "config_change", "state_change", "metric_math", "anomaly_band", "composite",
           "now_utc", "timedelta"]
