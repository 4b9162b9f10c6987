"""Incidents (seed 001): CloudWatch alarms through EventBridge, incidents declared by hand or
opened from alerts and insights, a validated lifecycle, roles, an append-only timeline,
MTTA/MTTR, revenue impact and what changed before.

The pure parts (``lifecycle``, ``alarms``) import no storage and no Chalice; the rest reaches
storage through ``IncidentsRepository``.
"""
from __future__ import annotations

from ..storage import default_store
from .repository import IncidentsRepository


def repository() -> IncidentsRepository:
    from .notices import on_write
    return IncidentsRepository(default_store(), after_write=on_write)


ALERTS_ACTOR = {"subject": "alerts", "name": "Alerts"}


def alert_fired(alert: dict, rule_id: str, rule_name: str, now: int) -> dict:
    """An alert of a rule with ``openIncident`` started firing: it opens an incident, or joins
    the active one its rule already opened. Once per alert."""
    from .workflow import open_or_join
    labels = alert.get("labels") or {}
    service = str(labels.get("service") or labels.get("host") or labels.get("kpi") or "alerts")[:100]
    link = {"id": alert["id"], "ruleId": rule_id, "name": rule_name, "message": alert.get("message")}
    return open_or_join(repository(), origin_kind="alert", origin_ref=alert["id"],
                        title=f"{rule_name}: {alert.get('message') or 'firing'}"[:200],
                        severity=alert["severity"], service=service, link=link, actor=ALERTS_ACTOR,
                        now=now, join_key=rule_id)


def alert_resolved(alert: dict, now: int) -> dict | None:
    """The alert resolved: recorded on the incident it joined (None if it joined none)."""
    from .workflow import record_origin_resolved
    return record_origin_resolved(repository(), "alert", alert["id"],
                                  f"alert resolved: {alert.get('message') or ''}"[:500], now)
