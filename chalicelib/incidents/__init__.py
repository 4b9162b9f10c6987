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
    return IncidentsRepository(default_store())
