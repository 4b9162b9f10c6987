"""HTTP routes of alerting. Thin: parse, call one function, shape the reply. Each route
declares who may call it next to it: viewers read alerts, rules and silences; operators
acknowledge and silence; admins manage rules and channels and read the notification log."""
from __future__ import annotations

import json

from chalice import Blueprint, Response

from ..auth import access, current_principal
from ..aws_access import API_HANDLER, uses
from ..field_types import now_ms
from ..web import JSON_HEADERS, api_errors, json_body, json_response
from . import alert_views, channel_admin, deliverer, outbound_allows_private, repository, rule_admin, topic
from .settings import alert_settings

alerts_api = Blueprint(__name__)


def _who() -> dict:
    user = current_principal()
    return {"subject": user.subject, "name": user.name}


def _params() -> dict:
    return alerts_api.current_request.query_params or {}


def _write_reply(body: dict, status: int = 201) -> Response:
    """The answer to a write: JSON, never cached (no ETag: it is not a read)."""
    return Response(body=json.dumps(body), status_code=status,
                    headers={**JSON_HEADERS, "Cache-Control": "no-store"})


def _no_content() -> Response:
    return Response(body="", status_code=204, headers={"Cache-Control": "no-store"})


# -- alerts -----------------------------------------------------------------------------------
@alerts_api.route("/api/alerts", methods=["GET"])
@access.role("viewer")
@api_errors
def list_alerts():
    return json_response(alerts_api.current_request,
                         alert_views.list_alerts(repository(), _params(), now_ms()))


@alerts_api.route("/api/alert-counts", methods=["GET"])
@access.role("viewer")
@api_errors
def alert_counts():
    return json_response(alerts_api.current_request, alert_views.alert_counts(repository()))


@alerts_api.route("/api/alerts/{alert_id}", methods=["GET"])
@access.role("viewer")
@api_errors
def get_alert(alert_id: str):
    return json_response(alerts_api.current_request,
                         alert_views.alert_detail(repository(), alert_id, now_ms()))


@alerts_api.route("/api/alerts/{alert_id}/ack", methods=["POST"])
@access.role("operator")
@api_errors
def acknowledge_alert(alert_id: str):
    return _write_reply(alert_views.acknowledge(repository(), alert_id, json_body(alerts_api.current_request),
                                            _who(), now_ms()), 200)


# -- silences ---------------------------------------------------------------------------------
@alerts_api.route("/api/silences", methods=["GET"])
@access.role("viewer")
@api_errors
def list_silences():
    return json_response(alerts_api.current_request, alert_views.list_silences(repository(), now_ms()))


@alerts_api.route("/api/silences", methods=["POST"])
@access.role("operator")
@api_errors
def create_silence():
    return _write_reply(alert_views.create_silence(repository(), json_body(alerts_api.current_request),
                                               _who(), now_ms()))


@alerts_api.route("/api/silences/{silence_id}", methods=["DELETE"])
@access.role("operator")
@api_errors
def expire_silence(silence_id: str):
    return _write_reply(alert_views.expire_silence(repository(), silence_id, now_ms()), 200)


# -- rules ------------------------------------------------------------------------------------
@alerts_api.route("/api/alert-rules", methods=["GET"])
@access.role("viewer")
@api_errors
def list_rules():
    return json_response(alerts_api.current_request, rule_admin.list_rules(repository(), now_ms()))


@alerts_api.route("/api/alert-rules", methods=["POST"])
@access.role("admin")
@api_errors
def create_rule():
    return _write_reply(rule_admin.create_rule(repository(), json_body(alerts_api.current_request),
                                           _who()["subject"], now_ms()))


@alerts_api.route("/api/alert-rules/{rule_id}", methods=["GET"])
@access.role("viewer")
@api_errors
def get_rule(rule_id: str):
    return json_response(alerts_api.current_request, rule_admin.get_rule(repository(), rule_id))


@alerts_api.route("/api/alert-rules/{rule_id}", methods=["PUT"])
@access.role("admin")
@api_errors
def replace_rule(rule_id: str):
    return _write_reply(rule_admin.replace_rule(repository(), rule_id, json_body(alerts_api.current_request),
                                            _who()["subject"], now_ms()), 200)


@alerts_api.route("/api/alert-rules/{rule_id}", methods=["DELETE"])
@access.role("admin")
@api_errors
def delete_rule(rule_id: str):
    rule_admin.delete_rule(repository(), rule_id, now_ms())
    return _no_content()


# -- channels (admin; secrets write-only) -------------------------------------------------------
@alerts_api.route("/api/channels", methods=["GET"])
@access.role("admin")
@api_errors
def list_channels():
    return json_response(alerts_api.current_request, channel_admin.list_channels(repository()))


@alerts_api.route("/api/channels", methods=["POST"])
@access.role("admin")
@api_errors
def create_channel():
    return _write_reply(channel_admin.create_channel(repository(), topic(), json_body(alerts_api.current_request),
                                                 outbound_allows_private(), now_ms()))


@alerts_api.route("/api/channels/{channel_id}", methods=["GET"])
@access.role("admin")
@api_errors
def get_channel(channel_id: str):
    return json_response(alerts_api.current_request, channel_admin.get_channel(repository(), channel_id))


@alerts_api.route("/api/channels/{channel_id}", methods=["PUT"])
@access.role("admin")
@api_errors
def replace_channel(channel_id: str):
    return _write_reply(channel_admin.replace_channel(
        repository(), topic(), channel_id, json_body(alerts_api.current_request),
        outbound_allows_private(), now_ms()), 200)


@alerts_api.route("/api/channels/{channel_id}", methods=["DELETE"])
@access.role("admin")
@api_errors
def delete_channel(channel_id: str):
    channel_admin.delete_channel(repository(), topic(), channel_id)
    return _no_content()


@alerts_api.route("/api/channels/{channel_id}/test", methods=["POST"])
@access.role("admin")
@api_errors
def test_channel(channel_id: str):
    status, body = channel_admin.test_channel(repository(), topic(), deliverer(attempts=1), channel_id,
                                              alert_settings().DASHBOARD_URL, now_ms())
    return _write_reply(body, status)


@alerts_api.route("/api/notifications", methods=["GET"])
@access.role("admin")
@api_errors
def notification_log():
    return json_response(alerts_api.current_request, alert_views.notification_log(repository(), _params()))

# channel admin subscribes email channels to the topic; a channel test publishes to it
uses(__name__, API_HANDLER, reads=("alerts", "notifications"), writes=("alerts", "notifications"),
     publishes=("alerts",), subscribes=("alerts",))
