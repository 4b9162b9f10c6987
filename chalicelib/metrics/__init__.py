"""Host and web-app metrics (seeds 002, 004): samples from the collector agent, over HTTP or
Kinesis, stored raw and rolled up per minute and hour; host list and series queries."""
from __future__ import annotations

from ..config import settings
from ..storage import default_store
from .repository import MetricsRepository

DAY_MS = 86_400_000


def retention_ms() -> int:
    return settings().metrics_retention_days * DAY_MS


def repository() -> MetricsRepository:
    return MetricsRepository(default_store(), retention_ms())
