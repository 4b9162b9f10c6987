"""Business KPIs (seed 000): ingest purchases, page views and custom events; roll them up;
read KPIs, revenue trend, user metrics and top products."""
from __future__ import annotations

import functools

from ..config import settings
from ..storage import default_store
from ..timebuckets import DAY_MS
from .ingest import IngestPolicy
from .repository import BusinessRepository
from .rollup import ACTIVE_DAYS_KEPT, bucket_retention_ms


@functools.cache
def policy() -> IngestPolicy:
    s = settings()
    return IngestPolicy(tz=s.team_timezone, currency=s.reporting_currency,
                        retention_ms=s.rollup_retention_days * DAY_MS, shards=s.rollup_shards)


def repository() -> BusinessRepository:
    return repository_for(default_store(), policy())


def repository_for(store, p: IngestPolicy) -> BusinessRepository:
    return BusinessRepository(
        store, event_retention_ms=p.retention_ms,
        bucket_ttl_ms={g: bucket_retention_ms(g, p.retention_ms) for g in "mhd"},
        actor_ttl_ms=ACTIVE_DAYS_KEPT * DAY_MS)
