"""One evaluation of every alert rule for one minute (``evaluateAlerts``, every minute).

For each enabled rule: read what it looks at (``Sources``: roll-ups and registries only), load
its open alerts (one query), step each series' alert (``state_machine.step``), decide who is
told (``routing.plan_notification``), put the notification in the outbox, write what changed,
and mark the minute evaluated. Then publish the outbox to the topic.

Delivered twice (EventBridge delivers at least once), the second run finds each rule marked for
that minute and changes nothing. A run that died half-way is finished by the next: the state
machine is idempotent for one minute and the outbox is keyed by rule and minute, so nothing is
told twice.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

from pydantic import ValidationError

from .defaults import install_default_rules
from .messages import MAX_LISTED, NOTIFICATION_TYPE, alert_message, alert_type, email_text, subject
from .models import MuteWindow, Rule, rule_from_stored
from .repository import AlertsRepository, OpenAlert, SeriesWrite, new_id
from .routing import ActiveSilence, AlertStatus, ChannelRoute, plan_notification
from .rules import Observed, fingerprint, reading_of, threshold_of
from .sources import Sources
from .state_machine import Episode, step
from .topic import Topic

logger = logging.getLogger("mission_control.alerts")


def stored_rules(repo: AlertsRepository) -> list[tuple[str, Rule]]:
    out = []
    for item in repo.rules():
        try:
            out.append((item["id"], rule_from_stored(item["rule"])))
        except (ValidationError, ValueError):  # written by an older version: skipped, said once a run
            logger.warning("alert rule %s no longer validates; it is not evaluated", item["id"])
    return out


def channel_routes(repo: AlertsRepository) -> list[ChannelRoute]:
    return [ChannelRoute(c["id"], [MuteWindow.model_validate(w) for w in c.get("muteWindows", [])])
            for c in repo.channels()]


def active_silences(repo: AlertsRepository, now: int) -> list[ActiveSilence]:
    from .models import Matcher
    return [ActiveSilence(s["id"], [Matcher.model_validate(m) for m in s["matchers"]], s["startsAt"],
                          s["endsAt"]) for s in repo.silences() if s["endsAt"] > now]


def match_labels(rule_id: str, rule: Rule, labels: dict[str, str]) -> dict[str, str]:
    """What silences match on: the alert's labels, its rule's name, id and severity."""
    return {**labels, "alertname": rule.name, "ruleId": rule_id, "severity": rule.severity}


def evaluate_alerts(repo: AlertsRepository, sources: Sources, topic: Topic, *, tz: str,
                    repeat_ms: int, dashboard_url: str) -> dict[str, Any]:
    """Evaluate every rule for the minute ``sources.now``; returns what the run did (recorded
    in ``/api/system-health``)."""
    started = time.perf_counter()
    minute = sources.now
    install_default_rules(repo, minute)
    rules = stored_rules(repo)
    marks = repo.evaluated_minutes([rule_id for rule_id, _ in rules])
    channels = channel_routes(repo)
    silences = active_silences(repo, minute)
    report = {"minute": minute, "rules": 0, "series": 0, "changed": 0, "notifications": 0,
              "alreadyEvaluated": 0}
    for rule_id, rule in rules:
        if not rule.enabled:
            continue
        if marks.get(rule_id, -1) >= minute:
            report["alreadyEvaluated"] += 1
            continue
        series, changed, told = evaluate_rule(
            repo, sources, rule_id, rule, channels=channels, silences=silences, tz=tz,
            repeat_ms=rule.repeat_ms or repeat_ms, dashboard_url=dashboard_url)
        repo.mark_evaluated(rule_id, minute)
        report["rules"] += 1
        report["series"] += series
        report["changed"] += changed
        report["notifications"] += told
    report["published"] = publish_outbox(repo, topic)
    report["durationMs"] = round((time.perf_counter() - started) * 1000, 2)
    return report


def _episode(opened: OpenAlert | None) -> Episode | None:
    if opened is None:
        return None
    return Episode(opened.alert_id, opened.state, opened.starts_at, opened.pending_since,  # type: ignore[arg-type]
                   opened.firing_at, opened.value, opened.resume)  # type: ignore[arg-type]


def listed_alert(rule_id: str, rule: Rule, fp: str, episode: Episode, labels: dict[str, str],
                 message: str, ack: dict | None, now: int) -> dict[str, Any]:
    op, threshold, recover = threshold_of(rule)  # type: ignore[misc]
    return {
        "id": episode.alert_id, "ruleId": rule_id, "fingerprint": fp, "name": rule.name,
        "labels": {**rule.labels, **labels}, "state": episode.state, "severity": rule.severity,
        "type": alert_type(rule.severity, episode.state), "category": rule.category,
        "message": message, "value": episode.value,
        "threshold": {"op": op, "value": threshold, "recover": recover},
        "startsAt": episode.starts_at, "firingAt": episode.firing_at, "endsAt": episode.ends_at,
        "acknowledged": ack is not None, "ack": ack, "runbookUrl": rule.runbookUrl, "updatedAt": now}


@dataclass
class SeriesOutcome:
    """One series after one evaluation: what to keep open, the alert as listed, its new
    history, whether anything needs writing, and what routing needs to know."""

    keep: OpenAlert | None
    alert: dict[str, Any]
    history: list[dict[str, Any]]
    changed: bool
    status: AlertStatus


def step_series(repo: AlertsRepository, rule_id: str, rule: Rule, fp: str, seen: Observed | None,
                old: OpenAlert | None, now: int) -> SeriesOutcome | None:
    """One series through the state machine (None: no alert, nothing to keep)."""
    labels = dict(seen.labels) if seen is not None else dict(old.labels)  # type: ignore[union-attr]
    reading = reading_of(rule, seen) if seen is not None else None
    episode, transitions = step(_episode(old), reading, rule.for_ms, now, new_id(now))
    if episode is None:
        return None
    if reading is None and old is not None:
        episode = replace(episode, value=old.value)  # no data: the last value stays shown
    message = alert_message(rule, episode.state, episode.value, labels, seen.detail if seen is not None else {})
    ack = old.ack if old is not None else None
    alert = listed_alert(rule_id, rule, fp, episode, labels, message, ack, now)
    keep = None
    if episode.state != "resolved":
        keep = OpenAlert(fp, labels, episode.alert_id, episode.state, episode.starts_at,
                         episode.pending_since, episode.firing_at, episode.value, episode.resume,
                         old.notified if old else None, old.last_notified_at if old else None,
                         ack, old.version if old else None)
    history = [repo.history_item(episode.alert_id, t.at, n, **{"from": t.from_state, "to": t.to_state},
                                 value=t.value, message=message) for n, t in enumerate(transitions)]
    status = AlertStatus(episode.alert_id, episode.state, match_labels(rule_id, rule, alert["labels"]),
                         old.notified if old else None, old.last_notified_at if old else None,
                         acked=ack is not None, ack_expires_at=(ack or {}).get("expiresAt"))
    changed = bool(transitions) or old is None or old.value != episode.value
    return SeriesOutcome(keep, alert, history, changed, status)


def evaluate_rule(repo: AlertsRepository, sources: Sources, rule_id: str, rule: Rule, *,
                  channels: list[ChannelRoute], silences: list[ActiveSilence], tz: str,
                  repeat_ms: int, dashboard_url: str) -> tuple[int, int, int]:
    """(series seen, series written, notifications) for one rule at ``sources.now``."""
    now = sources.now
    observed = {fingerprint(rule_id, o.labels): o for o in sources.observe(rule)}
    opened = repo.open_alerts(rule_id)
    outcomes = {fp: out for fp in sorted(set(observed) | set(opened))
                if (out := step_series(repo, rule_id, rule, fp, observed.get(fp), opened.get(fp), now))}

    plan = plan_notification([o.status for o in outcomes.values()], rule_channels=rule.channels,
                             rule_mute=rule.muteWindows, channels=channels, silences=silences,
                             repeat_ms=repeat_ms, now=now, tz=tz)
    if not plan.empty:
        by_id = {o.alert["id"]: o.alert for o in outcomes.values()}
        notification = build_notification(rule_id, rule, plan.channels, [by_id[i] for i in plan.firing],
                                          [by_id[i] for i in plan.resolved], dashboard_url, now)
        # Into the outbox before the "told" marks: a run that dies in between is finished by
        # the next, which finds the same notification already there.
        repo.add_to_outbox(notification["notificationId"], notification)
        for out in outcomes.values():
            if out.alert["id"] in plan.firing and out.keep is not None:
                out.keep = replace(out.keep, notified="firing", last_notified_at=now)
                out.changed = True

    writes = [SeriesWrite(rule_id, out.keep, fp, opened[fp].version if fp in opened else None,
                          out.alert, out.history, close=out.keep is None and fp in opened)
              for fp, out in outcomes.items() if out.changed]
    repo.write_series(writes)
    if rule.opens_incident:
        tell_incidents(rule_id, rule, [out.alert for out in outcomes.values() if out.history], now)
    return len(outcomes), len(writes), 0 if plan.empty else 1


def tell_incidents(rule_id: str, rule: Rule, changed: list[dict[str, Any]], now: int) -> None:
    """Alerts that started firing open (or join) an incident, resolved ones are recorded on
    it, through the incidents feature's functions; idempotent per alert, so a re-run repeats
    nothing. An incident that cannot be written is logged: alerting goes on regardless."""
    from .. import incidents  # late: incidents is optional to alerting's own work
    for alert in changed:
        try:
            if alert["state"] == "firing":
                incidents.alert_fired(alert, rule_id, rule.name, now)
            elif alert["state"] == "resolved":
                incidents.alert_resolved(alert, now)
        except Exception:  # noqa: BLE001 - an incident write must never stop evaluation
            logger.exception("could not record alert %s on an incident", alert["id"])


def alert_summary(alert: dict[str, Any]) -> dict[str, Any]:
    return {k: alert[k] for k in ("id", "labels", "state", "severity", "value", "message",
                                  "startsAt", "endsAt")}


def build_notification(rule_id: str, rule: Rule, channels: list[str], firing: list[dict],
                       resolved: list[dict], dashboard_url: str, now: int) -> dict[str, Any]:
    return {
        "type": NOTIFICATION_TYPE, "version": 1, "notificationId": f"n{now:013d}-{rule_id}",
        "status": "firing" if firing else "resolved",
        "rule": {"id": rule_id, "name": rule.name, "severity": rule.severity,
                 "category": rule.category, "runbookUrl": rule.runbookUrl},
        "channels": channels,
        "firing": [alert_summary(a) for a in firing[:MAX_LISTED]],
        "resolved": [alert_summary(a) for a in resolved[:MAX_LISTED]],
        "more": {"firing": max(0, len(firing) - MAX_LISTED), "resolved": max(0, len(resolved) - MAX_LISTED)},
        "dashboardUrl": dashboard_url or None, "createdAt": now}


def publish_outbox(repo: AlertsRepository, topic: Topic) -> int:
    """Publish what the outbox holds, oldest first; what fails stays for the next run."""
    published = 0
    for item in repo.outbox():
        notification = item["message"]
        try:
            topic.publish(subject(notification), notification, email_text(notification),
                          notification["channels"])
        except Exception:  # noqa: BLE001 - the topic is down: keep it, try again next minute
            logger.exception("could not publish notification %s; it stays in the outbox",
                             notification["notificationId"])
            break
        repo.published(item["sk"])
        published += 1
    return published


def retire_alerts(repo: AlertsRepository, rule_id: str, why: str, now: int,
                  keep: Callable[[OpenAlert], bool] = lambda _a: False) -> int:
    """Resolve a rule's open alerts without telling anyone (the rule was removed, disabled or
    now looks at other series). Returns how many."""
    writes = []
    for fp, opened in repo.open_alerts(rule_id).items():
        if keep(opened):
            continue
        alert = repo.alert(opened.alert_id)
        if alert is None:
            continue
        listed = {k: v for k, v in alert.items() if k not in ("pk", "sk", "gsi1pk", "gsi1sk", "ttl")}
        listed.update(state="resolved", type="success", endsAt=now, message=why, updatedAt=now)
        writes.append(SeriesWrite(rule_id, None, fp, opened.version, listed, [
            repo.history_item(opened.alert_id, now, 0, **{"from": opened.state, "to": "resolved"},
                              value=opened.value, message=why)], close=True))
    repo.write_series(writes)
    return len(writes)

