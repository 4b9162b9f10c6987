from __future__ import annotations

import time

from chalice import Blueprint

from ..auth import access
from ..aws_access import API_HANDLER, uses
from ..storage import default_store
from ..web import api_errors, json_response
from . import schedule_log, store_health
from .probes import ProbeLog
from .settings import health_settings

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
    """Seed 000's API, database, CDN and payment status: the API (answering this), the store,
    and each HEALTH_PROBES dependency with its last hour; when each scheduled job last ran
    (``evaluateAlerts`` with its duration, rules and series)."""
    now = int(time.time() * 1000)
    probes = ProbeLog(default_store())
    components = [{"name": "api", "status": "ok"}, store_health(default_store())]
    components += [{**p, "kind": "probe", "lastHour": probes.last_hour(p["name"], now)}
                   for p in probes.latest([t.name for t in health_settings().probes])]
    status = "ok" if all(c["status"] == "ok" for c in components) else "degraded"
    return json_response(system_api.current_request, {
        "status": status, "components": components, "schedules": schedule_log().last_runs()})

uses(__name__, API_HANDLER, reads=("system",))
