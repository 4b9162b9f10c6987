"""HTTP routes of the business feature. Thin: parse, call one function, shape the reply."""
from __future__ import annotations

from chalice import Blueprint

from ..auth import access
from ..aws_access import API_HANDLER, uses
from ..batches import batch_status
from ..field_types import now_ms
from ..web import api_errors, json_body, json_response
from . import policy, queries, repository
from .ingest import IngestResult, parse_events, record_events

business_api = Blueprint(__name__)


def _ingest(kind: str):
    request = business_api.current_request
    now = now_ms()
    valid, refused, batch = parse_events(kind, json_body(request), policy(), now)
    status = batch_status(kind, valid, refused, batch)
    result = IngestResult(refused=refused)
    result.accepted, result.duplicates = record_events(
        repository(), [e for _i, e in valid], policy(), now)
    return json_response(request, result.as_json(), status)


@business_api.route("/api/ingest/purchase", methods=["POST"])
@access.api_key("ingest:business")
@api_errors
def ingest_purchase():
    return _ingest("purchase")


@business_api.route("/api/ingest/pageview", methods=["POST"])
@access.api_key("ingest:business")
@api_errors
def ingest_pageview():
    return _ingest("pageview")


@business_api.route("/api/ingest/event", methods=["POST"])
@access.api_key("ingest:business")
@api_errors
def ingest_event():
    return _ingest("event")


@business_api.route("/api/kpis", methods=["GET"])
@access.role("viewer")
@api_errors
def get_kpis():
    params = business_api.current_request.query_params or {}
    return json_response(business_api.current_request,
                         queries.kpis(repository(), policy(), params.get("period"), now_ms()))


@business_api.route("/api/revenue", methods=["GET"])
@access.role("viewer")
@api_errors
def get_revenue():
    params = business_api.current_request.query_params or {}
    return json_response(business_api.current_request,
                         queries.revenue_trend(repository(), policy(), params.get("weeks"), now_ms()))


@business_api.route("/api/users", methods=["GET"])
@access.role("viewer")
@api_errors
def get_users():
    return json_response(business_api.current_request,
                         queries.user_metrics(repository(), policy(), now_ms()))


@business_api.route("/api/products", methods=["GET"])
@access.role("viewer")
@api_errors
def get_products():
    params = business_api.current_request.query_params or {}
    return json_response(business_api.current_request, queries.products(
        repository(), policy(), params.get("limit"), params.get("window"), now_ms()))

uses(__name__, API_HANDLER, reads=("events", "actors", "rollups"),
     writes=("events", "actors", "rollups"))
