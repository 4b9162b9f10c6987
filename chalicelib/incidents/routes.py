"""HTTP routes of incidents and the EventBridge handler for CloudWatch alarm state changes.
Thin: parse, call one ``workflow`` function, shape the reply. Viewers read; operators declare,
change and annotate; only admins close (checked by the lifecycle, with the caller's role)."""
from __future__ import annotations

import json
import logging

from chalice import Blueprint, Response

from ..auth import access, current_principal
from ..aws_access import API_HANDLER, uses
from ..field_types import now_ms
from ..web import JSON_HEADERS, api_errors, json_body, json_response
from . import repository, workflow
from .alarms import EVENT_PATTERN, NotAnAlarmStateChange, read_alarm_change
from .settings import incident_settings

logger = logging.getLogger("mission_control.incidents")
incidents_api = Blueprint(__name__)


def _who() -> dict:
    user = current_principal()
    return {"subject": user.subject, "name": user.name or user.subject}


def _role() -> str:
    user = current_principal()
    return user.role.label if user.role else "viewer"


def _incident_reply(incident: dict, status: int = 200) -> Response:
    return Response(body=json.dumps(incident), status_code=status,
                    headers={**JSON_HEADERS, "ETag": workflow.etag(incident), "Cache-Control": "no-store"})


@incidents_api.route("/api/incidents", methods=["GET"])
@access.role("viewer")
@api_errors
def list_incidents():
    request = incidents_api.current_request
    return json_response(request, workflow.list_incidents(repository(), request.query_params or {}))


@incidents_api.route("/api/incidents", methods=["POST"])
@access.role("operator")
@api_errors
def declare_incident():
    return _incident_reply(workflow.declare_incident(
        repository(), json_body(incidents_api.current_request), _who(), now_ms()), 201)


@incidents_api.route("/api/incidents/stats", methods=["GET"])
@access.role("viewer")
@api_errors
def incident_stats():
    request = incidents_api.current_request
    return json_response(request, workflow.incident_stats(repository(), request.query_params or {}, now_ms()))


@incidents_api.route("/api/incidents/{incident_id}", methods=["GET"])
@access.role("viewer")
@api_errors
def get_incident(incident_id: str):
    request = incidents_api.current_request
    incident = workflow.incident_detail(repository(), incident_id, _role())
    tag = workflow.etag(incident)
    if tag in request.headers.get("if-none-match", ""):
        return Response(body="", status_code=304, headers={"ETag": tag, "Cache-Control": "no-cache"})
    return Response(body=json.dumps(incident), status_code=200,
                    headers={**JSON_HEADERS, "ETag": tag, "Cache-Control": "no-cache"})


@incidents_api.route("/api/incidents/{incident_id}", methods=["PATCH"])
@access.role("operator")
@api_errors
def change_incident(incident_id: str):
    request = incidents_api.current_request
    return _incident_reply(workflow.change_incident(
        repository(), incident_id, json_body(request), request.headers.get("if-match"), _who(), _role(),
        now_ms()))


@incidents_api.route("/api/incidents/{incident_id}/notes", methods=["POST"])
@access.role("operator")
@api_errors
def add_note(incident_id: str):
    return _incident_reply(workflow.add_note(
        repository(), incident_id, json_body(incidents_api.current_request), _who(), now_ms()), 201)


@incidents_api.route("/api/incidents/{incident_id}/impact", methods=["GET"])
@access.role("viewer")
@api_errors
def revenue_impact(incident_id: str):
    """Revenue and orders during the incident against the same hours of the previous week."""
    from .. import business  # the business feature's public reads
    from ..business.queries import hourly_sales
    from ..config import settings
    from ..timebuckets import hour_start
    tz = settings().team_timezone
    return json_response(incidents_api.current_request, workflow.incident_impact(
        repository(), incident_id, lambda first, last: hourly_sales(business.repository(), first, last),
        lambda ms: hour_start(ms, tz), incident_settings().revenue_min_orders, settings().reporting_currency,
        now_ms()))


@incidents_api.route("/api/incidents/{incident_id}/before", methods=["GET"])
@access.role("viewer")
@api_errors
def changed_before(incident_id: str):
    """Anomalies, alert transitions and CI deploy runs in the hour before it began."""
    from ..timeline import change_kinds, merged
    return json_response(incidents_api.current_request, workflow.changes_before(
        repository(), incident_id, lambda since, until, limit: merged(change_kinds(), since, until, limit)))


@incidents_api.route("/api/insights/{insight_id}/incident", methods=["POST"])
@access.role("operator")
@api_errors
def promote_insight(insight_id: str):
    """A confirmed insight becomes an incident (body optional: title, severity, service)."""
    from ..insights import insight_by_id  # the insights feature's public read
    request = incidents_api.current_request
    body = json_body(request) if request.raw_body else {}
    incident = workflow.promote_insight(repository(), insight_id, insight_by_id(insight_id), body, _who(), now_ms())
    return _incident_reply(incident, 200 if incident.get("already") or incident.get("joined") else 201)


@incidents_api.on_cw_event(EVENT_PATTERN, name="alarmToIncident")
def alarm_to_incident(event):
    """Seed 001's processor Lambda: one CloudWatch alarm state change into its incident."""
    raw = event.to_dict()
    try:
        change = read_alarm_change(raw)
    except NotAnAlarmStateChange as why:
        logger.info("event %s ignored: %s", str(raw.get("id"))[:80], why)
        return {"outcome": "ignored"}
    result = workflow.apply_alarm_change(repository(), change, incident_settings(), now_ms())
    logger.info("alarm %s %s: %s", change.alarm_name, change.state, result["outcome"])
    return result

# Incidents are told on the alerts' channels (alerts and notifications tables, the alerts topic);
# impact reads the business roll-ups, "promote" the insight; the alarm handler records its runs
# in system.
uses(__name__, API_HANDLER, reads=("incidents", "alerts", "notifications", "insights", "rollups"),
     writes=("incidents", "alerts", "notifications"), publishes=("alerts",))
uses(__name__, "alarmToIncident", reads=("incidents", "alerts", "notifications", "system"),
     writes=("incidents", "alerts", "notifications", "system"), publishes=("alerts",))
