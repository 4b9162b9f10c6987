"""Metrics routes and the Kinesis consumer: thin wiring over one ingest function."""
from __future__ import annotations

from chalice import Blueprint

from ..auth import access
from ..aws_access import API_HANDLER, uses
from ..batches import batch_status, validate_batch
from ..config import settings
from ..field_types import now_ms
from ..system.deadletters import set_aside
from ..web import api_errors, json_body, json_response
from . import queries, repository
from .ingest import check_sample_time, record_samples
from .models import MAX_BATCH, MetricSample
from .stream import consume_records

metrics_api = Blueprint(__name__)


@metrics_api.route("/api/metrics", methods=["POST"])
@access.api_key("ingest:metrics")
@api_errors
def ingest_metrics():
    request = metrics_api.current_request
    repo, now = repository(), now_ms()
    valid, refused, batch = validate_batch(
        json_body(request), MetricSample, "sample", MAX_BATCH,
        lambda s: check_sample_time(s, now, repo.retention_ms))
    status = batch_status("sample", valid, refused, batch)
    outcome = record_samples(repo, [s for _i, s in valid])
    return json_response(request, {"accepted": outcome.accepted, "duplicates": outcome.duplicates,
                                   "refused": refused}, status)


@metrics_api.route("/api/metrics", methods=["GET"])
@access.role("viewer")
@api_errors
def get_metrics():
    request = metrics_api.current_request
    return json_response(request, queries.metric_series(
        repository(), request.query_params or {}, now_ms(), settings().team_timezone))


@metrics_api.route("/api/hosts", methods=["GET"])
@access.role("viewer")
@api_errors
def get_hosts():
    return json_response(metrics_api.current_request, queries.hosts(repository(), now_ms(),
                                                                      settings().team_timezone))


@metrics_api.on_kinesis_record(stream=settings().metrics_stream, name="consumeMetrics",
                               batch_size=100, starting_position="LATEST")
def consume_metrics(event):
    repo = repository()
    return consume_records(
        [(r.sequence_number, r.data) for r in event], repo,
        lambda reason, raw, ref: set_aside(repo.store, "kinesis-metrics", reason, raw, ref),
        now_ms())

uses(__name__, API_HANDLER, reads=("metrics",), writes=("metrics",))
uses(__name__, "consumeMetrics", reads=("metrics",), writes=("metrics", "deadletters"))
