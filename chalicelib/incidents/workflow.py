"""What the incidents API and the alarm handler do: each function reads through the
repository, decides with the pure lifecycle, and writes one transaction.

Who acted is always recorded: ``actor`` is ``{"subject", "name"}`` (a person, or a system such
as ``{"subject": "cloudwatch", "name": "CloudWatch"}``).
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from pydantic import ValidationError

from ..errors import Busy
from ..errors import Conflict as ConflictError
from ..errors import Forbidden, InvalidInput, NotFound, PreconditionFailed, PreconditionRequired, pydantic_details
from ..storage import InvalidCursor, Put
from ..severity import rank
from . import lifecycle
from .alarms import AlarmChange
from .models import AddNote, ChangeIncident, DeclareIncident, IncidentQuery
from .repository import Conflict, IncidentsRepository, IncidentWrite, facet_of, matches, new_id, public
from .settings import IncidentSettings

logger = logging.getLogger("mission_control.incidents")

CLOUDWATCH = {"subject": "cloudwatch", "name": "CloudWatch"}
#: a write that lost a race is tried again this often before the caller hears "busy"
RETRIES = 5


def etag(incident: Mapping[str, Any]) -> str:
    """The incident's entity tag: its version (every change, notes included, bumps it)."""
    return f'"{incident["id"]}.v{incident["version"]}"'


def parse(model, body: Any):
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput("the request is not valid", pydantic_details(exc)) from None


def _entry(at: int, kind: str, who: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    return {"at": at, "kind": kind, "who": dict(who), **{k: v for k, v in fields.items() if v is not None}}


def _new_incident(now: int, *, title: str, severity: str, service: str, source: str,
                  description: str = "", links: dict | None = None) -> dict[str, Any]:
    return {"id": new_id(now), "title": title, "severity": severity, "status": "open",
            "service": service, "source": source, "description": description, "assignee": None,
            "createdAt": now, "updatedAt": now, "acknowledgedAt": None, "resolvedAt": None,
            "closedAt": None, "links": {"alarms": [], "alerts": [], "insights": [], **(links or {})}}


def _moved(incident: dict, target: str, at: int) -> dict:
    stamps = lifecycle.stamps_after(incident, target, at)
    return {**incident, "status": target, "acknowledgedAt": stamps.acknowledged_at,
            "resolvedAt": stamps.resolved_at, "closedAt": stamps.closed_at,
            "updatedAt": max(at, incident.get("updatedAt", at))}


# -- reads ------------------------------------------------------------------------------------------
def list_incidents(repo: IncidentsRepository, params: Mapping[str, str]) -> dict[str, Any]:
    """Newest first, one page; filters by status, severity, service and ``since`` (created at
    or after, epoch ms or ISO-8601) through the facet pointers, never a scan. A page may hold
    fewer than ``limit`` items while ``cursor`` says more follow (a second filter is applied to
    the page read)."""
    raw = dict(params)
    if isinstance(raw.get("since"), str) and raw["since"].isdigit():
        raw["since"] = int(raw["since"])
    query = parse(IncidentQuery, raw)
    facet, value = facet_of(query.status, query.service, query.severity)
    try:
        page = repo.list_ids(facet, value, query.since, query.limit, query.cursor)
    except InvalidCursor:  # a client's cursor, edited or from another query
        raise InvalidInput("cursor does not belong to this query",
                           [{"field": "cursor", "message": "start again without it"}]) from None
    items = page.items if facet is None else repo.get_many([p["sk"] for p in page.items])
    filters = [("status", query.status), ("severity", query.severity), ("service", query.service)]
    return {"incidents": [public(i) for i in items if matches(i, filters)], "cursor": page.cursor}


def incident_detail(repo: IncidentsRepository, incident_id: str, role: str | None = None) -> dict[str, Any]:
    item = repo.get(incident_id)
    if item is None:
        raise NotFound(f"incident {incident_id[:40]} does not exist")
    incident = public(item)
    incident["timeline"] = [public(e) for e in repo.timeline(incident_id)]
    incident["allowedTransitions"] = lifecycle.allowed_targets(incident["status"], role)
    return incident


# -- a person's writes ------------------------------------------------------------------------------
def declare_incident(repo: IncidentsRepository, body: Any, actor: Mapping, now: int) -> dict[str, Any]:
    declared = parse(DeclareIncident, body)
    incident = _new_incident(now, title=declared.title, severity=declared.severity,
                             service=declared.service, source="manual", description=declared.description)
    entry = _entry(now, "created", actor, to="open", text=declared.title)
    return repo.write(IncidentWrite(incident, None, None, [entry]))


def change_incident(repo: IncidentsRepository, incident_id: str, body: Any, if_match: str | None,
                    actor: Mapping, role: str, now: int) -> dict[str, Any]:
    """Apply a PATCH when ``if_match`` is the incident's current ETag: 428 without one, 412
    when it is stale (nothing changes), 409 listing the allowed statuses for a move the
    lifecycle refuses, 403 for closing without the admin role."""
    change = parse(ChangeIncident, body)
    if not if_match:
        raise PreconditionRequired("send If-Match with the incident's ETag (from GET /api/incidents/{id})")
    before = repo.get(incident_id)
    if before is None:
        raise NotFound(f"incident {incident_id[:40]} does not exist")
    before = public(before)
    if if_match.strip().removeprefix("W/") != etag(before):
        raise PreconditionFailed("the incident changed since you read it; reload and try again",
                                 [{"field": "If-Match", "current": etag(before)}])
    after, entries = dict(before), []
    fields = change.model_fields_set
    if "status" in fields and change.status is not None and change.status != before["status"]:
        try:
            lifecycle.check_transition(before["status"], change.status, role)
        except lifecycle.TransitionRefused as refused:
            raise ConflictError(str(refused), [{"field": "status", "from": refused.current,
                                                "allowed": refused.allowed}]) from None
        except lifecycle.RoleTooLow as low:
            raise Forbidden(str(low)) from None
        after = _moved(after, change.status, now)
        entries.append(_entry(now, "status", actor, **{"from": before["status"], "to": change.status}))
    if before["status"] == "closed" and fields - {"status"}:
        raise ConflictError("a closed incident does not change", [{"field": "status", "allowed": []}])
    for name in ("assignee", "severity", "title"):
        if name in fields and (name != "title" or getattr(change, name) is not None):
            value = getattr(change, name)
            if value != before.get(name):
                after[name] = value
                entries.append(_entry(now, name, actor, **{"from": before.get(name), "to": value}))
    if not entries:
        return {**before, "unchanged": True}
    after["updatedAt"] = now
    try:
        return repo.write(IncidentWrite(after, before["version"], before, entries))
    except Conflict:
        raise PreconditionFailed("the incident changed while you wrote; reload and try again") from None


def add_note(repo: IncidentsRepository, incident_id: str, body: Any, actor: Mapping, now: int) -> dict[str, Any]:
    note = parse(AddNote, body)
    return _append(repo, incident_id, lambda incident: [_entry(now, "note", actor, text=note.text)], now)


def _append(repo: IncidentsRepository, incident_id: str, entries_for: Callable[[dict], list[dict]],
            now: int) -> dict[str, Any]:
    """Add timeline entries to the incident (a new version), retrying lost races."""
    for _ in range(RETRIES):
        item = repo.get(incident_id)
        if item is None:
            raise NotFound(f"incident {incident_id[:40]} does not exist")
        before = public(item)
        try:
            return repo.write(IncidentWrite({**before, "updatedAt": now}, before["version"], before,
                                            entries_for(before)))
        except Conflict:
            continue
    raise Busy("the incident is being changed by others; try again")


# -- CloudWatch alarms --------------------------------------------------------------------------------
def apply_alarm_change(repo: IncidentsRepository, change: AlarmChange, settings: IncidentSettings,
                       now: int) -> dict[str, Any]:
    """One alarm state change, applied once: ALARM opens an incident for the alarm (or joins
    the one still active, or reopens it within the reopen window); OK records the recovery and
    resolves it when auto-resolve is on and no person has taken it over; INSUFFICIENT_DATA is
    recorded. A redelivered event changes nothing; a change older than the last one applied to
    the alarm is recorded as late and moves nothing. Returns what happened."""
    keep_ms = settings.event_marks_days * 86_400_000
    for _ in range(RETRIES):
        if repo.handled(change.event_id):
            return {"outcome": "duplicate"}
        alarm = repo.alarm(change.alarm_arn)
        current = public(repo.get(alarm["incidentId"])) if alarm and alarm.get("incidentId") else None
        try:
            return _apply_once(repo, change, alarm, current, settings, now, keep_ms)
        except Conflict:
            continue  # a concurrent delivery (or a person) wrote first: read again
    raise Busy(f"alarm {change.alarm_name} is being changed concurrently; EventBridge will retry")


def _alarm_entry(change: AlarmChange, at: int, now: int, applied: bool = True) -> dict[str, Any]:
    return _entry(at, "alarm", CLOUDWATCH, receivedAt=now, **{
        "from": change.previous_state, "to": change.state, "text": change.reason,
        "ref": {"alarmArn": change.alarm_arn, "eventId": change.event_id, "stateAt": change.state_at,
                "kind": change.kind}, "applied": applied})


def _apply_once(repo, change: AlarmChange, alarm, current, settings, now, keep_ms) -> dict[str, Any]:
    # What the alarm causes is stamped with when CloudWatch saw it (never later than now), so
    # MTTA/MTTR and the reopen window measure the alarm, not EventBridge's delivery delay.
    at = min(change.state_at, now)
    mark = repo.event_mark(change.event_id, current["id"] if current else None, now, keep_ms)
    alarm_version = alarm.get("version") if alarm else None
    if alarm and change.state_at <= alarm.get("stateAt", 0):
        # Late: EventBridge delivered an older state change after a newer one.
        if current is None:
            repo.mark_event(change.event_id, now, keep_ms)
            return {"outcome": "late"}
        repo.write(IncidentWrite({**current, "updatedAt": now}, current["version"], current,
                                 [_alarm_entry(change, at, now, applied=False)], [mark]))
        return {"outcome": "late", "incidentId": current["id"]}
    alarm_op = lambda incident_id: repo.alarm_op(change.alarm_arn, incident_id, change.state,  # noqa: E731
                                                 change.state_at, alarm_version)
    active = current is not None and current["status"] in lifecycle.ACTIVE
    if change.state == "ALARM":
        if active:
            written = repo.write(IncidentWrite({**current, "updatedAt": now}, current["version"], current,
                                               [_alarm_entry(change, at, now)], [mark, alarm_op(current["id"])]))
            return {"outcome": "joined", "incidentId": written["id"]}
        if current is not None and current["status"] == "resolved" and lifecycle.within_reopen_window(
                current.get("resolvedAt"), change.state_at, settings.reopen_window_ms):
            reopened = _moved(current, "open", at)
            entries = [_alarm_entry(change, at, now),
                       _entry(at, "status", CLOUDWATCH, **{"from": "resolved", "to": "open",
                                                            "text": "the alarm fired again within the reopen window"})]
            repo.write(IncidentWrite(reopened, current["version"], current, entries, [mark, alarm_op(current["id"])]))
            return {"outcome": "reopened", "incidentId": current["id"]}
        incident = _new_incident(at, title=f"{change.alarm_name} in ALARM", severity=settings.alarm_severity,
                                 service=_service_of(change), source="cloudwatch",
                                 description=change.description,
                                 links={"alarms": [{"arn": change.alarm_arn, "name": change.alarm_name,
                                                    "consoleUrl": change.console_url, "kind": change.kind,
                                                    "triggeringAlarms": change.triggering_alarms}]})
        entries = [_entry(at, "created", CLOUDWATCH, to="open", text=change.summary()), _alarm_entry(change, at, now)]
        mark = repo.event_mark(change.event_id, incident["id"], now, keep_ms)
        written = repo.write(IncidentWrite(incident, None, None, entries, [mark, alarm_op(incident["id"])]))
        return {"outcome": "opened", "incidentId": written["id"]}
    if current is None:  # OK or INSUFFICIENT_DATA of an alarm with no incident: remember the time only
        repo.write_marks([mark, alarm_op("")])
        return {"outcome": "no-incident"}
    entries = [_alarm_entry(change, at, now)]
    after = {**current, "updatedAt": now}
    outcome = "recorded"
    if (change.state == "OK" and active and settings.auto_resolve and not lifecycle.taken_over(current)):
        after = _moved(current, "resolved", at)
        entries.append(_entry(at, "status", CLOUDWATCH, **{
            "from": current["status"], "to": "resolved", "text": "the alarm recovered (auto-resolve)"}))
        outcome = "resolved"
    repo.write(IncidentWrite(after, current["version"], current, entries, [mark, alarm_op(current["id"])]))
    return {"outcome": outcome, "incidentId": current["id"]}


def _service_of(change: AlarmChange) -> str:
    """The service an alarm's incident is filed under: the first metric's namespace
    (``AWS/EC2``), or ``cloudwatch`` for composites and expressions."""
    for metric in change.metrics:
        namespace = metric.split(" ", 1)[0]
        if "/" in namespace:
            return namespace[:100]
    return "cloudwatch"


# -- from other features ----------------------------------------------------------------------------
def open_or_join(repo: IncidentsRepository, *, origin_kind: str, origin_ref: str, title: str,
                 severity: str, service: str, link: dict[str, Any], actor: Mapping, now: int,
                 join_key: str | None = None) -> dict[str, Any]:
    """Open an incident for something another feature saw (an alert, an insight), or add it to
    the active incident already open for ``join_key`` (e.g. the alert's rule). Once per
    ``origin_kind``/``origin_ref``: doing it again returns the incident it joined."""
    links_key = {"alert": "alerts", "insight": "insights"}[origin_kind]
    for _ in range(RETRIES):
        known = repo.origin(origin_kind, origin_ref)
        if known is not None:
            found = repo.get(known["incidentId"])
            if found is None:
                raise NotFound(f"the incident {origin_kind} {origin_ref[:40]} joined no longer exists")
            return {**public(found), "joined": True, "already": True}
        joined = repo.origin(f"{origin_kind}-group", join_key) if join_key else None
        found = repo.get(joined["incidentId"]) if joined else None
        current = public(found) if found else None
        try:
            if current is not None and current["status"] in lifecycle.ACTIVE:
                after = {**current, "updatedAt": now,
                         "links": {**current["links"], links_key: [*current["links"].get(links_key, []), link][-50:]}}
                if rank(severity) > rank(current["severity"]):
                    after["severity"] = severity
                mark = repo.origin_mark(origin_kind, origin_ref, current["id"], now)
                written = repo.write(IncidentWrite(after, current["version"], current,
                                                   [_entry(now, origin_kind, actor, text=title, ref=link)], [mark]))
                return {**written, "joined": True}
            incident = _new_incident(now, title=title, severity=severity, service=service, source=origin_kind,
                                     links={links_key: [link]})
            ops = [repo.origin_mark(origin_kind, origin_ref, incident["id"], now)]
            if join_key:
                ops.append(Put("incidents", {"pk": "origin", "sk": f"{origin_kind}-group#{join_key}",
                                             "incidentId": incident["id"], "at": now}, if_absent=False))
            entries = [_entry(now, "created", actor, to="open", text=title), _entry(now, origin_kind, actor, text=title, ref=link)]
            written = repo.write(IncidentWrite(incident, None, None, entries, ops))
            return {**written, "joined": False}
        except Conflict:
            continue
    raise Busy("the incident is being changed by others; try again")


def promote_insight(repo: IncidentsRepository, insight_id: str, insight: Mapping[str, Any] | None, body: Any,
                    actor: Mapping, now: int) -> dict[str, Any]:
    """A confirmed insight becomes an incident (or joins the one it already opened): 404 for
    no such insight, 409 until an operator has confirmed it."""
    from .models import PromoteInsight
    wanted = parse(PromoteInsight, body or {})
    if insight is None:
        raise NotFound(f"no insight {insight_id[:40]!r}")
    if insight.get("feedback") != "confirm":
        raise ConflictError("confirm the insight first (POST /api/insights/{id}/feedback)",
                            [{"field": "feedback", "current": insight.get("feedback"), "allowed": ["confirm"]}])
    where = " on ".join(str(insight[k]) for k in ("metric", "host") if insight.get(k))
    title = wanted.title or f"{insight.get('type', 'insight')}: {insight.get('message') or where}"[:200]
    link = {"id": insight_id, "type": insight.get("type"), "message": insight.get("message"),
            "startsAt": insight.get("startsAt")}
    return open_or_join(repo, origin_kind="insight", origin_ref=insight_id, title=title,
                        severity=wanted.severity or insight.get("severity") or "MEDIUM",
                        service=wanted.service or str(insight.get("host") or "insights")[:100],
                        link=link, actor=actor, now=now)


def record_origin_resolved(repo: IncidentsRepository, origin_kind: str, origin_ref: str, text: str,
                           now: int) -> dict[str, Any] | None:
    """Add "resolved" for an alert (or insight) to the incident it joined; None if it joined none."""
    known = repo.origin(origin_kind, origin_ref)
    if known is None or not known.get("incidentId"):
        return None
    return _append(repo, known["incidentId"], lambda incident: [
        _entry(now, f"{origin_kind}-resolved", {"subject": origin_kind + "s", "name": origin_kind.capitalize() + "s"},
               text=text, ref={"id": origin_ref})], now)


def incident_stats(repo: IncidentsRepository, params: Mapping[str, str], now: int) -> dict[str, Any]:
    """Counts by severity and status, MTTA and MTTR (median, p90) of incidents created since
    ``since`` (default: 30 days ago)."""
    raw = params.get("since")
    since = now - 30 * 86_400_000
    if raw:
        from ..field_types import EpochMs  # noqa: F401  (the same parsing as every ``since``)
        from pydantic import TypeAdapter
        try:
            since = TypeAdapter(EpochMs).validate_python(int(raw) if raw.isdigit() else raw)
        except ValidationError as exc:
            raise InvalidInput("since is not a time", pydantic_details(exc, "since")) from None
    stats = lifecycle.summary_stats(repo.created_between(since))
    return {"since": since, **stats}


# -- what no anchor has -------------------------------------------------------------------------------
BEFORE_MS = 3_600_000


def _incident(repo: IncidentsRepository, incident_id: str) -> dict[str, Any]:
    item = repo.get(incident_id)
    if item is None:
        raise NotFound(f"incident {incident_id[:40]} does not exist")
    return public(item)


def incident_impact(repo: IncidentsRepository, incident_id: str, sales: Callable[[int, int], Mapping],
                    hour_start: Callable[[int], int], min_orders: int, currency: str, now: int) -> dict[str, Any]:
    """Revenue and orders during the incident (until its resolution, or now) against the same
    hours a week before. ``sales(first_hour, last_hour)``: the business roll-ups' hourly
    revenue and orders."""
    from .impact import WEEK_MS, impact_hours, revenue_impact
    incident = _incident(repo, incident_id)
    hours = impact_hours(incident["createdAt"], incident.get("resolvedAt") or now, hour_start)
    current = sales(hours[0], hours[-1])
    before = sales(hours[0] - WEEK_MS, hours[-1] - WEEK_MS)
    return {"incidentId": incident_id, "from": incident["createdAt"], "until": incident.get("resolvedAt") or now,
            "ongoing": incident.get("resolvedAt") is None,
            **revenue_impact(hours, current, before, min_orders, currency)}


def changes_before(repo: IncidentsRepository, incident_id: str,
                   merged: Callable[[int, int, int], list[dict]]) -> dict[str, Any]:
    """What changed in the hour before the incident began: ``merged(since, until, limit)``
    gives the timeline's change kinds (anomalies, alert transitions, CI deploy runs)."""
    incident = _incident(repo, incident_id)
    until = incident["createdAt"]
    return {"incidentId": incident_id, "since": until - BEFORE_MS, "until": until,
            "entries": merged(until - BEFORE_MS, until, 100)}
