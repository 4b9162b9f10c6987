"""The rules a fresh install starts with, installed once per store (the first evaluation or the
first look at the rules); each is an ordinary rule, editable and removable, and a removed one
does not come back."""
from __future__ import annotations

import weakref
from typing import Any

from ..storage import VersionConflict
from .models import parse_rule

DEFAULT_RULES: tuple[dict, ...] = (
    # Seed 000's "Revenue Drop: -20% vs yesterday"; the volume guard keeps a quiet night quiet.
    {"name": "Revenue drop", "kind": "change", "source": "kpi", "kpi": "revenue", "window": "1h",
     "compare": "yesterday", "op": "<", "percent": -20, "minVolume": 10, "severity": "HIGH"},
    {"name": "CPU hot", "kind": "threshold", "source": "metric", "host": "*",
     "metric": "cpu.percent", "op": ">", "value": 90, "for": "5m", "recover": 80, "severity": "HIGH"},
    {"name": "Memory hot", "kind": "threshold", "source": "metric", "host": "*",
     "metric": "mem.used_percent", "op": ">", "value": 90, "for": "5m", "recover": 85,
     "severity": "HIGH"},
    {"name": "Disk almost full", "kind": "threshold", "source": "metric", "host": "*",
     "metric": "disk.*.used_percent", "op": ">", "value": 90, "for": "10m", "recover": 85,
     "severity": "HIGH"},
    # Offline as the Hosts page says it: 30 missed intervals (5 minutes at 10 s).
    {"name": "Host silent", "kind": "absence", "host": "*", "intervals": 30, "severity": "CRITICAL"},
    {"name": "Web app errors", "kind": "threshold", "source": "metric", "host": "*",
     "hostKind": "webapp", "metric": "http.error_rate", "op": ">", "value": 5, "for": "5m",
     "recover": 2, "severity": "HIGH"},
    {"name": "Web app slow", "kind": "threshold", "source": "metric", "host": "*",
     "hostKind": "webapp", "metric": "http.response_time_ms", "op": ">", "value": 1000,
     "for": "5m", "recover": 800, "severity": "MEDIUM"},
    {"name": "Dependency down", "kind": "probe", "probe": "*", "for": "2m", "severity": "CRITICAL"},
    # Seed 002: HIGH and CRITICAL insights are notified.
    {"name": "High-severity insight", "kind": "insight", "minSeverity": "HIGH", "severity": "HIGH"},
)

#: stores seen with their defaults in this process
_installed: "weakref.WeakSet[Any]" = weakref.WeakSet()


def default_rule_id(body: dict) -> str:
    return "default-" + body["name"].lower().replace(" ", "-")


def install_default_rules(repo, now: int) -> bool:
    """Install the defaults if this store never had them; True when it did now. Safe to run
    concurrently and after a crash half-way: each default has a fixed id, created only if
    absent, and the store is marked done only once all are there."""
    if repo.store in _installed:
        return False
    installed = False
    if not repo.defaults_installed():
        for body in DEFAULT_RULES:
            try:
                repo.create_rule(default_rule_id(body), parse_rule(body).as_json(), "mission-control", now)
            except VersionConflict:
                pass  # another process installed it meanwhile
        installed = repo.mark_defaults_installed(now)
    _installed.add(repo.store)
    return installed
