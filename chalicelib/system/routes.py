from __future__ import annotations

from chalice import Blueprint

from ..auth import access
from ..storage import default_store
from ..web import api_errors, json_response
from . import schedule_log, store_health

system_api = Blueprint(__name__)


@system_api.route("/api/health", methods=["GET"])
@access.public
@api_errors
def health():
    """Liveness for load balancers and the SPA; needs no credentials and reads nothing."""
    return json_response(system_api.current_request, {"status": "ok"})


@system_api.route("/api/system-health", methods=["GET"])
@access.role("viewer")
@api_errors
def system_health():
    components = [store_health(default_store())]
    status = "ok" if all(c["status"] == "ok" for c in components) else "degraded"
    return json_response(system_api.current_request, {
        "status": status, "components": components, "schedules": schedule_log().last_runs()})
