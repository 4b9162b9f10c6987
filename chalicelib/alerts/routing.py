"""Who is told what after one evaluation of one rule. Pure: no storage, no clock.

- Alerts of one rule that need telling in the same evaluation go out as one notification
  listing them (grouping).
- A firing alert is told when it starts firing, then again every repeat interval while it
  fires, unless it is acknowledged (until the acknowledgement expires or the alert resolves).
- A resolved alert is told once, and only if its firing was told.
- A silenced alert still changes state and is still listed; it is just not told.
- During a mute window of the rule nothing of it is told; what is held back goes out when the
  window ends (a firing alert still firing then is told then). A channel in a mute window is
  left out of the notifications sent meanwhile.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from .models import Matcher, MuteWindow
from .mute import matches, muted


@dataclass(frozen=True)
class AlertStatus:
    """An alert of the rule just evaluated, as the evaluation left it."""

    alert_id: str
    state: str  # pending | firing | nodata | resolved
    labels: Mapping[str, str]
    #: the state last told ("firing" or "resolved"), None if never told
    notified: str | None = None
    last_notified_at: int | None = None
    #: acknowledged: None if not; else when the acknowledgement lapses (None inside: never)
    acked: bool = False
    ack_expires_at: int | None = None


@dataclass(frozen=True)
class ChannelRoute:
    channel_id: str
    mute_windows: Sequence[MuteWindow] = ()


@dataclass(frozen=True)
class ActiveSilence:
    silence_id: str
    matchers: Sequence[Matcher]
    starts_at: int
    ends_at: int


@dataclass
class Plan:
    """One notification (or none) and the alerts whose "told" marks it moves."""

    firing: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.firing or self.resolved) or not self.channels


def silencing(silences: Iterable[ActiveSilence], labels: Mapping[str, str], now: int) -> list[str]:
    """Ids of the silences in force at ``now`` that cover an alert with ``labels``."""
    return [s.silence_id for s in silences
            if s.starts_at <= now < s.ends_at and matches(s.matchers, labels)]


def acknowledged(alert: AlertStatus, now: int) -> bool:
    return alert.acked and (alert.ack_expires_at is None or alert.ack_expires_at > now)


def plan_notification(alerts: Iterable[AlertStatus], *, rule_channels: Sequence[str] | None,
                      rule_mute: Sequence[MuteWindow], channels: Sequence[ChannelRoute],
                      silences: Sequence[ActiveSilence], repeat_ms: int, now: int,
                      tz: str) -> Plan:
    plan = Plan()
    if muted(rule_mute, now, tz):
        return plan
    wanted = [c for c in channels if rule_channels is None or c.channel_id in rule_channels]
    plan.channels = [c.channel_id for c in wanted if not muted(c.mute_windows, now, tz)]
    if not plan.channels:
        return plan  # held back: told when a channel can hear it
    for alert in alerts:
        if silencing(silences, alert.labels, now):
            continue
        if alert.state == "firing":
            first = alert.notified != "firing"
            repeat = (not first and not acknowledged(alert, now)
                      and now - (alert.last_notified_at or 0) >= repeat_ms)
            if first or repeat:
                plan.firing.append(alert.alert_id)
        elif alert.state == "resolved" and alert.notified == "firing":
            plan.resolved.append(alert.alert_id)
    return plan
