"""DailyStats (seed 000): per stat and local day, the value, the previous day's value and
the change in percent. `aggregateStats` refreshes today's every 5 minutes; the daily roll-up
finalises yesterday's after local midnight."""
from __future__ import annotations

from ..timebuckets import day_start_of_date, local_date, shift_date
from .ingest import IngestPolicy
from .kpis import change_percent
from .queries import DAILY_STATS, daily_values
from .repository import BusinessRepository


def write_daily_stats(repo: BusinessRepository, policy: IngestPolicy, day: str, now_ms: int) -> dict:
    """Compute and store every DailyStat of ``day`` (a local date); returns the values."""
    tz = policy.tz
    before = shift_date(day, -1)
    counters = repo.counters("biz", "d", day_start_of_date(before, tz), day_start_of_date(day, tz))
    today = daily_values(counters.get((day_start_of_date(day, tz), ""), {}))
    yesterday = daily_values(counters.get((day_start_of_date(before, tz), ""), {}))
    for stat in DAILY_STATS:
        repo.put_daily_stat(stat, day, today[stat], yesterday[stat],
                            change_percent(today[stat], yesterday[stat]), now_ms)
    return today


def refresh_today(repo: BusinessRepository, policy: IngestPolicy, now_ms: int) -> dict:
    return write_daily_stats(repo, policy, local_date(now_ms, policy.tz), now_ms)


def finalise_yesterday(repo: BusinessRepository, policy: IngestPolicy, now_ms: int) -> dict:
    return write_daily_stats(repo, policy, shift_date(local_date(now_ms, policy.tz), -1), now_ms)
