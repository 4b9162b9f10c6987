"""``GET /api/timeline``: thin wiring over ``timeline.timeline``."""
from __future__ import annotations

from chalice import Blueprint

from ..auth import access
from ..aws_access import API_HANDLER, uses
from ..field_types import now_ms
from ..web import api_errors, json_response
from . import timeline

timeline_api = Blueprint(__name__)


@timeline_api.route("/api/timeline", methods=["GET"])
@access.role("viewer")
@api_errors
def get_timeline():
    request = timeline_api.current_request
    return json_response(request, timeline(dict(request.query_params or {}), now_ms()))

uses(__name__, API_HANDLER, reads=("incidents", "alerts", "insights", "ci"))
