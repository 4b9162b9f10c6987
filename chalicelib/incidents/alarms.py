"""CloudWatch "Alarm State Change" events (EventBridge), read into what an incident needs.
Pure: no storage, no Chalice.

The ``detail`` differs by alarm kind (CloudWatch user guide, "Alarm events and EventBridge"):

- single metric: ``configuration.metrics`` holds one ``metricStat``;
- metric math: several metrics, the one with ``returnData: true`` is an ``expression``;
- anomaly band: an ``ANOMALY_DETECTION_BAND(...)`` expression among the metrics;
- composite: no metrics, an ``alarmRule``; ``state.reasonData`` names the triggering alarms.

Which alarm an incident belongs to is the alarm's ARN (``resources[0]``); the order of state
changes is ``detail.state.timestamp`` (EventBridge may deliver late and more than once).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping
from urllib.parse import quote

DETAIL_TYPE = "CloudWatch Alarm State Change"
SOURCE = "aws.cloudwatch"
#: the EventBridge rule's pattern (and the local bus's): only alarm state changes reach us
EVENT_PATTERN = {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}
STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
_ARN = re.compile(r"^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$")


class NotAnAlarmStateChange(ValueError):
    """The event is not one we act on (another detail type, or not the shape AWS documents)."""


@dataclass(frozen=True)
class AlarmChange:
    event_id: str
    alarm_arn: str
    alarm_name: str
    kind: str  # metric | metric-math | anomaly-band | composite
    state: str  # ALARM | OK | INSUFFICIENT_DATA
    previous_state: str | None
    state_at: int  # epoch ms of detail.state.timestamp
    reason: str
    region: str
    description: str = ""
    metrics: list[str] = field(default_factory=list)  # "AWS/EC2 CPUUtilization", expressions
    triggering_alarms: list[str] = field(default_factory=list)  # composite: child alarm ARNs

    @property
    def console_url(self) -> str:
        return (f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
                f"#alarmsV2:alarm/{quote(self.alarm_name, safe='')}")

    def summary(self) -> str:
        what = ", ".join(self.metrics) or ", ".join(a.rsplit(":", 1)[-1] for a in self.triggering_alarms)
        return f"{self.alarm_name}: {self.state}" + (f" ({what})" if what else "")


def aws_time_ms(value: Any) -> int:
    """CloudWatch's ``2019-10-02T17:04:40.989+0000`` (and ISO-8601 forms) as epoch ms."""
    if not isinstance(value, str) or not value:
        raise NotAnAlarmStateChange("detail.state.timestamp is missing")
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise NotAnAlarmStateChange(f"detail.state.timestamp {value[:40]!r} is not a time") from None
    if parsed.tzinfo is None:
        raise NotAnAlarmStateChange("detail.state.timestamp has no offset")
    return int(parsed.timestamp() * 1000)


def _metric_names(metrics: list) -> tuple[str, list[str]]:
    """The alarm kind and what it watches, from ``configuration.metrics``."""
    names, kind = [], "metric"
    for metric in metrics:
        if not isinstance(metric, Mapping):
            continue
        expression = metric.get("expression")
        if isinstance(expression, str):
            if "ANOMALY_DETECTION_BAND" in expression.upper():
                kind = "anomaly-band"
            elif kind == "metric":
                kind = "metric-math"
            if metric.get("returnData"):
                names.append(str(metric.get("label") or expression)[:200])
            continue
        stat = metric.get("metricStat") or {}
        inner = stat.get("metric") or {} if isinstance(stat, Mapping) else {}
        if isinstance(inner, Mapping) and inner.get("name"):
            names.append(f"{inner.get('namespace', '')} {inner['name']}".strip()[:200])
    return kind, names


def _triggering(state: Mapping) -> list[str]:
    try:
        data = json.loads(state.get("reasonData") or "{}")
    except (TypeError, ValueError):
        return []
    found = data.get("triggeringAlarms") if isinstance(data, dict) else None
    return [a["arn"] for a in found or [] if isinstance(a, dict) and isinstance(a.get("arn"), str)][:20]


def read_alarm_change(event: Mapping[str, Any]) -> AlarmChange:
    """The event as an :class:`AlarmChange`; :class:`NotAnAlarmStateChange` when it is
    another detail type or lacks what AWS always sends (the handler logs and ignores those)."""
    if event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
        raise NotAnAlarmStateChange(f"detail-type {str(event.get('detail-type'))[:80]!r} is not ours")
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise NotAnAlarmStateChange("the event has no detail")
    resources = event.get("resources") or []
    arn = next((r for r in resources if isinstance(r, str) and _ARN.match(r)), None)
    state = detail.get("state")
    if arn is None or not isinstance(state, Mapping) or state.get("value") not in STATES:
        raise NotAnAlarmStateChange("the event names no alarm ARN or no known state")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise NotAnAlarmStateChange("the event has no id")
    configuration = detail.get("configuration") if isinstance(detail.get("configuration"), Mapping) else {}
    previous = detail.get("previousState") if isinstance(detail.get("previousState"), Mapping) else {}
    if configuration.get("alarmRule"):
        kind, names = "composite", []
    else:
        kind, names = _metric_names(configuration.get("metrics") or [])
    name = detail.get("alarmName") if isinstance(detail.get("alarmName"), str) else arn.split(":alarm:", 1)[1]
    return AlarmChange(
        event_id=event_id[:200], alarm_arn=arn[:1024], alarm_name=name[:255], kind=kind,
        state=state["value"], previous_state=previous.get("value"), state_at=aws_time_ms(state.get("timestamp")),
        reason=str(state.get("reason") or "")[:1000],
        # The region is the ARN's (checked by its pattern), never the envelope's free text: it
        # becomes the host of the console link people click.
        region=arn.split(":")[3],
        description=str(configuration.get("description") or "")[:1000], metrics=names,
        triggering_alarms=_triggering(state) if kind == "composite" else [])
