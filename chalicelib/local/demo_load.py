"""Loading demo history through the same ingest function the API uses."""
from __future__ import annotations

import time
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from ..business.ingest import IngestPolicy, record_events
from ..business.repository import BusinessRepository
from ..timebuckets import DAY_MS
from .demo import FLAG_ON_DAYS_AGO, DemoTraffic

BATCH = 500


def has_business_data(repo: BusinessRepository) -> bool:
    return bool(repo.store.query("rollups", "biz#d", limit=1).items)


def utc_offset_hours(tz: str) -> float:
    return datetime.now(ZoneInfo(tz)).utcoffset().total_seconds() / 3600


def demo_history(repo: BusinessRepository, policy: IngestPolicy, days: int, seed: int,
                 on_progress: Callable[[float], None] = lambda d: None) -> int:
    """Ingest ``days`` of demo traffic ending now; returns the number of events."""
    now = int(time.time() * 1000)
    start = now - days * DAY_MS
    traffic = DemoTraffic(seed, currency=policy.currency, flag_on_ms=now - FLAG_ON_DAYS_AGO * DAY_MS)
    batch, total = [], 0
    for event in traffic.events_between(start, now, start, utc_offset_hours(policy.tz)):
        batch.append(event)
        if len(batch) == BATCH:
            record_events(repo, batch, policy, now)
            total += len(batch)
            batch = []
            on_progress((event.timestamp - start) / DAY_MS)
    if batch:
        record_events(repo, batch, policy, now)
        total += len(batch)
    on_progress(days)
    return total
