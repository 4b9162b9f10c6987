"""What people read: an alert's message, a notification's subject, its Slack message, its
email and its webhook body. Pure: data in, text out.

A notification (what evaluation publishes to the topic) is a plain dict::

    {"type": "mission-control.alerts", "version": 1, "notificationId", "status": "firing" |
     "resolved" | "test", "rule": {"id", "name", "severity", "category", "runbookUrl"},
     "channels": [ids], "firing": [alert], "resolved": [alert], "more": {"firing", "resolved"},
     "dashboardUrl", "createdAt"}

with each alert ``{"id", "labels", "state", "severity", "value", "message", "startsAt",
"endsAt"}``. It carries no secret: the SNS handler looks each channel up by id.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from .models import Absence, CiThreshold, InsightRule, KpiChange, KpiThreshold, MetricThreshold, ProbeRule, Rule
from .rules import threshold_of

NOTIFICATION_TYPE = "mission-control.alerts"
#: alerts listed in one notification; the rest are counted ("and 12 more")
MAX_LISTED = 50
COMPARED = {"previous_period": "the previous {window}", "yesterday": "the same time yesterday",
            "same_hour_last_week": "the same time last week"}
SEVERITY_MARK = {"CRITICAL": "🔴", "HIGH": "🟠", "MEDIUM": "🟡", "LOW": "🔵"}
MONEY_KPIS = ("revenue", "aov")


def alert_type(severity: str, state: str) -> str:
    """Seed 000's type: error, warning, info or success."""
    if state == "resolved":
        return "success"
    if state != "firing":
        return "info"
    return {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning"}.get(severity, "info")


def number(value: float | None) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) >= 10 else f"{value:,.3g}"


def kpi_value(kpi: str, value: float | None, currency: str) -> str:
    if value is None:
        return "–"
    if kpi in MONEY_KPIS:
        return f"{value / 100:,.2f} {currency}"
    if kpi == "conversion":
        return f"{value * 100:.2f} %"
    return number(value)


def _where(labels: Mapping[str, str]) -> str:
    return labels.get("host") or labels.get("probe") or labels.get("kpi") or labels.get("repo") or ""


def alert_message(rule: Rule, state: str, value: float | None, labels: Mapping[str, str],
                  detail: Mapping[str, Any]) -> str:
    """One line saying what, where, the value against the threshold."""
    op, threshold, recover = threshold_of(rule)  # type: ignore[misc]
    past = recover if recover != threshold else threshold
    if isinstance(rule, MetricThreshold):
        what = f"{labels.get('metric', rule.metric)} on {labels.get('host', rule.host)}"
        if state == "nodata":
            return f"No data: {what} has not been reported recently"
        if state == "resolved":
            return f"{what} is {number(value)}, back past {number(past)}"
        return f"{what} is {number(value)} ({op} {number(threshold)})"
    if isinstance(rule, (KpiThreshold, KpiChange)):
        currency = detail.get("currency", "")
        span = "the last day" if rule.window == "1d" else f"the last {rule.window}"
        if state == "nodata":
            return f"No judgement on {rule.kpi} over {span}: " + detail.get(
                "reason", "no data")
        now = kpi_value(rule.kpi, detail.get("current"), currency)
        if isinstance(rule, KpiThreshold):
            limit = kpi_value(rule.kpi, past if state == "resolved" else threshold, currency)
            if state == "resolved":
                return f"{rule.kpi} over {span} is {now}, back past {limit}"
            return f"{rule.kpi} over {span} is {now} ({op} {limit})"
        base = kpi_value(rule.kpi, detail.get("previous"), currency)
        versus = COMPARED[rule.compare].format(window=rule.window)
        change = f"{value:+.1f} %" if value is not None else "–"
        if state == "resolved":
            return f"{rule.kpi} over {span} is {now}, {change} against {versus} ({base}): back past {past:+g} %"
        return f"{rule.kpi} over {span} is {now}, {change} against {versus} ({base}); alert {op} {threshold:+g} %"
    if isinstance(rule, Absence):
        host = f"{labels.get('host', rule.host)} ({labels.get('hostKind', 'host')})"
        if state == "resolved":
            return f"{host} is sending again"
        every = detail.get("intervalS")
        period = f" of {number(every)} s" if every else ""
        return f"{host} sent nothing for {number(value)} intervals{period} (alert at {rule.intervals})"
    if isinstance(rule, ProbeRule):
        probe = labels.get("probe", rule.probe)
        if state == "resolved":
            return f"{probe} is up again"
        if state == "nodata":
            return f"No data: {probe} has not been probed recently"
        why = detail.get("error") or (f"HTTP {detail['httpStatus']}" if detail.get("httpStatus") else "down")
        return f"{probe} is down ({why})"
    if isinstance(rule, InsightRule):
        return detail.get("message") or f"an insight of severity {rule.minSeverity} or more is open"
    if isinstance(rule, CiThreshold):
        branch = " (default branch)" if rule.branch == "default" else ""
        what = (f"{rule.measure} of {labels.get('workflow', rule.workflow)} on {labels.get('repo', rule.repo)}"
                f"{branch} over {rule.window}")
        unit = " %" if rule.measure == "failureRate" else ("" if rule.measure == "flaky" else " s")
        if state == "nodata":
            return f"No judgement on {what}: fewer than {rule.minRuns} completed runs"
        if state == "resolved":
            return f"{what} is {number(value)}{unit}, back past {number(past)}{unit}"
        return f"{what} is {number(value)}{unit} ({op} {number(threshold)}{unit})"
    return ""


def iso(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def subject(notification: Mapping[str, Any]) -> str:
    """An SNS subject: printable ASCII, at most 100 characters."""
    rule = notification["rule"]
    if notification["status"] == "test":
        text = f"[TEST] Mission Control: {rule['name']}"
    else:
        firing = len(notification["firing"]) + notification["more"]["firing"]
        resolved = len(notification["resolved"]) + notification["more"]["resolved"]
        parts = [f"FIRING:{firing}"] if firing else []
        parts += [f"RESOLVED:{resolved}"] if resolved else []
        text = f"[{' '.join(parts)}] {rule['name']} ({rule['severity']})"
    text = text.encode("ascii", "replace").decode().replace("\n", " ")
    return text if len(text) <= 100 else text[:99] + "…".encode("ascii", "replace").decode()


def alert_link(notification: Mapping[str, Any], alert: Mapping[str, Any]) -> str | None:
    """The dashboard page of an item: the alert's, or the page another feature named
    (``link``, e.g. ``#/incidents/<id>``)."""
    base = notification.get("dashboardUrl")
    if not base:
        return None
    return f"{base.rstrip('/')}/{alert['link']}" if alert.get("link") else f"{base.rstrip('/')}/#/alerts?alert={alert['id']}"


def slack_payload(notification: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message: a plain ``text`` fallback for notifications and
    blocks a person reads: severity, what, where, value against threshold, since when, links."""
    rule = notification["rule"]
    mark = SEVERITY_MARK.get(rule["severity"], "")
    title = f"{mark} {subject(notification)}".strip()
    if notification["status"] == "test":
        return {"text": title, "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*\nThis channel works: "
                                         "Mission Control alerts will arrive here."}}]}
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    for heading, alerts, extra in (("Firing", notification["firing"], notification["more"]["firing"]),
                                   ("Resolved", notification["resolved"], notification["more"]["resolved"])):
        if not alerts:
            continue
        lines = []
        for alert in alerts:
            since = (f"since {iso(alert['startsAt'])}" if heading == "Firing"
                     else f"resolved {iso(alert.get('endsAt'))}")
            where = _where(alert["labels"])
            line = f"• *{where}* {alert['message']} — {since}" if where else f"• {alert['message']} — {since}"
            link = alert_link(notification, alert)
            lines.append(f"{line} <{link}|open>" if link else line)
        if extra:
            lines.append(f"…and {extra} more")
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": f"*{heading}* · {rule['severity']}\n" + "\n".join(lines)[:2900]}})
    links = []
    if notification.get("dashboardUrl"):
        links.append(f"<{notification['dashboardUrl'].rstrip('/')}/#/alerts|Dashboard>")
    if rule.get("runbookUrl"):
        links.append(f"<{rule['runbookUrl']}|Runbook>")
    context = [f"Rule *{rule['name']}* · {rule['category']}", *links]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    return {"text": title, "blocks": blocks}


def email_text(notification: Mapping[str, Any]) -> str:
    rule = notification["rule"]
    if notification["status"] == "test":
        return (f"This is a test message from Mission Control for the channel it was sent to.\n"
                f"Alerts of rule '{rule['name']}' and others will arrive here.\n")
    out = [subject(notification), ""]
    for heading, alerts, extra in (("Firing", notification["firing"], notification["more"]["firing"]),
                                   ("Resolved", notification["resolved"], notification["more"]["resolved"])):
        if not alerts:
            continue
        out.append(f"{heading}:")
        for alert in alerts:
            when = (f"since {iso(alert['startsAt'])}" if heading == "Firing"
                    else f"resolved {iso(alert.get('endsAt'))}")
            out.append(f"  - {alert['message']} ({when})")
            link = alert_link(notification, alert)
            if link:
                out.append(f"    {link}")
        if extra:
            out.append(f"  ... and {extra} more")
        out.append("")
    out.append(f"Rule: {rule['name']} · severity {rule['severity']} · {rule['category']}")
    if rule.get("runbookUrl"):
        out.append(f"Runbook: {rule['runbookUrl']}")
    if notification.get("dashboardUrl"):
        out.append(f"Dashboard: {notification['dashboardUrl'].rstrip('/')}/#/alerts")
    return "\n".join(out) + "\n"
