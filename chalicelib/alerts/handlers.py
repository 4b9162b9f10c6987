"""Alerting's event handlers: the every-minute evaluation (EventBridge on AWS, the local
worker here) and the SNS subscriber that fans notifications out to the channels."""
from __future__ import annotations

import time

from chalice import Blueprint, Rate

from ..aws_access import uses
from ..config import settings
from ..system import recorded
from ..system.events import event_minute
from . import deliverer, repository, sources, topic
from .evaluation import evaluate_alerts
from .fanout import fan_out
from .settings import alert_settings

alert_jobs = Blueprint(__name__)


@alert_jobs.schedule(Rate(1, unit=Rate.MINUTES), name="evaluateAlerts")
@recorded("evaluateAlerts")
def evaluate(event):
    """Seed 000's evaluateAlerts: every rule, for the minute of the event (a redelivered event
    names the same minute and changes nothing)."""
    s = alert_settings()
    return evaluate_alerts(repository(), sources(event_minute(event)), topic(),
                           tz=settings().team_timezone, repeat_ms=s.repeat_interval_ms,
                           dashboard_url=s.DASHBOARD_URL)


@alert_jobs.on_sns_message(topic=alert_settings().ALERTS_TOPIC, name="notifyChannels")
def notify_channels(event):
    """One SNS message (Lambda gets one record per invocation) out to its channels."""
    record = event.to_dict()["Records"][0]["Sns"]
    return fan_out(repository(), deliverer(), record.get("Message", ""), record.get("MessageId", ""),
                   int(time.time() * 1000))

# ci: the ``ci`` rule source's health roll-ups; incidents: rules with ``openIncident`` open them
uses(__name__, "evaluateAlerts", reads=("alerts", "notifications", "events", "rollups", "stats", "metrics",
                                        "insights", "system", "ci", "incidents"),
     writes=("alerts", "notifications", "system", "incidents"), publishes=("alerts",))
uses(__name__, "notifyChannels", reads=("alerts", "notifications"), writes=("alerts", "notifications"))
