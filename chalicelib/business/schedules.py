"""Scheduled business jobs (EventBridge on AWS, the local worker on one machine)."""
from __future__ import annotations

import time

from chalice import Blueprint, Cron, Rate

from ..aws_access import uses
from ..observability import publish_business_metric
from ..system import recorded
from ..timebuckets import local_date, shift_date
from . import policy, repository
from .daily_stats import finalise_yesterday, refresh_today
from .ingest import add_stale_journals

business_jobs = Blueprint(__name__)


@business_jobs.schedule(Rate(5, unit=Rate.MINUTES), name="aggregateStats")
@recorded("aggregateStats")
def aggregate_stats(event):
    """Add the roll-up journals a stopped writer left, then refresh today's DailyStats from
    the roll-ups (seed 000's aggregateStats)."""
    now = int(time.time() * 1000)
    add_stale_journals(repository(), now)
    return refresh_today(repository(), policy(), now)


# EventBridge rules run in UTC and the team's midnight moves with TEAM_TIMEZONE and daylight
# saving, so the daily roll-up runs hourly and (idempotently) finalises the local yesterday.
@business_jobs.schedule(Cron(1, "*", "*", "*", "?", "*"), name="dailyRollup")
@recorded("dailyRollup")
def daily_rollup(event):
    """Finalise yesterday's DailyStats (local day) with value, previous value and change, and
    publish the finished day's revenue change for the revenue-drop alarm (seed 000: -20 %)."""
    repo, now = repository(), int(time.time() * 1000)
    values = finalise_yesterday(repo, policy(), now)
    day = shift_date(local_date(now, policy().tz), -1)
    [stat] = repo.daily_stats("revenue", day, day) or [{}]
    if stat.get("change") is not None:
        publish_business_metric("RevenueChangePercent", float(stat["change"]), "Percent")
    return values

for _job in ("aggregateStats", "dailyRollup"):
    uses(__name__, _job, reads=("rollups", "stats", "system"), writes=("rollups", "stats", "system"))
