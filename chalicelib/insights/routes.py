"""Insights routes and the metrics-stream consumer: thin wiring over ``feed`` and ``stream``."""
from __future__ import annotations

import time

from chalice import Blueprint, Rate

from ..auth import access
from ..aws_access import API_HANDLER, uses
from ..config import settings
from ..system import recorded
from ..system.deadletters import set_aside
from ..web import api_errors, json_body, json_response
from . import repository
from .feed import give_feedback, list_insights
from .settings import insights_settings
from .stream import StreamRecord, consume_records, score_business

insights_api = Blueprint(__name__)


@insights_api.route("/api/insights", methods=["GET"])
@access.role("viewer")
@api_errors
def get_insights():
    request = insights_api.current_request
    return json_response(request, list_insights(repository(), request.query_params or {}))


@insights_api.route("/api/insights/{insight_id}/feedback", methods=["POST"])
@access.role("operator")
@api_errors
def post_feedback(insight_id):
    request = insights_api.current_request
    return json_response(request, give_feedback(repository(), insight_id, json_body(request)))


@insights_api.on_dynamodb_record(stream_arn=insights_settings().metrics_stream_arn, name="scoreMetrics",
                                 batch_size=100, starting_position="LATEST")
def score_metrics(event):
    from ..alerts import metric_limits  # the alerts feature's public read (imported late: it reads us)
    repo = repository()
    records = [StreamRecord(r.sequence_number, r.event_name, r.table_name, r.keys or {}, r.new_image)
               for r in event]
    return consume_records(records, settings().table_prefix + "metrics", repo,
                           lambda reason, raw, ref: set_aside(repo.store, "insights-stream", reason, raw, ref),
                           insights_settings(), limit_of=metric_limits())


@insights_api.schedule(Rate(5, unit=Rate.MINUTES), name="scoreBusiness")
@recorded("scoreBusiness")
def score_business_series(event):
    """Orders, revenue and conversion through the same detector, every closed 5 minutes."""
    from .. import business  # the business feature's public reads, through its repository factory

    def minute_counters(first_ms: int, last_ms: int) -> dict:
        found = business.repository().counters("biz", "m", first_ms, last_ms)
        return {bucket: counters for (bucket, dim), counters in found.items() if dim == ""}

    return score_business(repository(), minute_counters, int(time.time() * 1000), insights_settings())

uses(__name__, API_HANDLER, reads=("insights",), writes=("insights",))
# metric_limits() reads the alert rules' limits, installing the default rules on first look
uses(__name__, "scoreMetrics", reads=("insights", "metrics", "alerts"), writes=("insights", "deadletters", "alerts"))
uses(__name__, "scoreBusiness", reads=("insights", "rollups", "system"), writes=("insights", "system"))
