"""System health's scheduled job (EventBridge on AWS, the local worker on one machine)."""
from __future__ import annotations

from chalice import Blueprint, Rate

from ..aws_access import uses
from ..storage import default_store
from . import recorded
from .events import event_minute
from .probes import ProbeLog, probe_all
from .settings import health_settings

system_jobs = Blueprint(__name__)


@system_jobs.schedule(Rate(1, unit=Rate.MINUTES), name="probeHealth")
@recorded("probeHealth")
def probe_health(event):
    """Probe every HEALTH_PROBES dependency; results feed /api/system-health and probe rules."""
    settings = health_settings()
    minute = event_minute(event)
    results = probe_all(settings.probes, settings.HEALTH_PROBE_TIMEOUT_S, minute)
    ProbeLog(default_store()).record(results, minute)
    return {"probes": len(results), "down": sum(r["status"] != "ok" for r in results)}

uses(__name__, "probeHealth", reads=("system",), writes=("system",))
