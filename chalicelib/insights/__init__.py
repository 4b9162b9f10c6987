"""Insights (seed 002): anomalies, predictions and cross-host patterns, computed from the
metrics table's change stream as samples arrive. The detector, forecasts and patterns are pure
(``detector``, ``forecast``, ``patterns``, ``tracking``); ``stream`` and ``repository`` do the
I/O; ``routes`` is the HTTP and stream wiring."""
from __future__ import annotations

from ..severity import Severity
from ..storage import default_store
from .repository import DAY_MS, InsightsRepository
from .settings import insights_settings


def repository() -> InsightsRepository:
    return InsightsRepository(default_store(), insights_settings().retention_days * DAY_MS)


def open_insights(repo: InsightsRepository, min_severity: Severity, since_ms: int) -> list[dict]:
    """Open insights of at least ``min_severity`` started at or after ``since_ms``, newest
    first, pattern members folded into their pattern: what the alerts feature's ``insight``
    rule kind notifies (HIGH and above by default). Index queries only."""
    from .repository import drop_keys
    return drop_keys(repo.open_since(min_severity, since_ms))


def insights_since(repo: InsightsRepository, min_severity: Severity, since_ms: int) -> list[dict]:
    """Insights of at least ``min_severity`` started at or after ``since_ms``, open or closed
    (``endsAt``), newest first, pattern members folded into their pattern: what the alerts
    feature's ``insight`` rule kind watches, so that its alert resolves when the insight closes.
    Index queries only."""
    from .repository import drop_keys
    return drop_keys(repo.started_since(min_severity, since_ms))


def insight_by_id(insight_id: str) -> dict | None:
    """One insight as listed (the incidents feature promotes confirmed ones)."""
    from .repository import drop_keys
    item = repository().get(insight_id)
    return drop_keys([item])[0] if item else None


def insights_between(since_ms: int, until_ms: int, limit: int) -> list[dict]:
    """Insights started in ``[since_ms, until_ms]``, newest first, at most ``limit`` (index
    queries only): the product's timeline and an incident's "what changed before"."""
    from .repository import drop_keys
    return drop_keys(repository().started_between(since_ms, until_ms, limit))
