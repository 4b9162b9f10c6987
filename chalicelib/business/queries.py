"""The dashboard's business reads. Each reads pre-aggregated roll-ups with a fixed number of
range queries, so its cost does not grow with the number of events stored.

Periods: ``24h`` is the current local hour and the 23 before it; ``7d`` and ``30d`` are today
(local) and the 6 or 29 days before it. "Previous" is the same length just before.
"""
from __future__ import annotations

from typing import Any

from ..errors import InvalidInput
from ..timebuckets import (
    HOUR_MS, day_start_of_date, days_back, hour_start, local_date, minute_start, shift_date,
)
from .ingest import IngestPolicy
from .kpis import Totals, feature_adoption, kpi_summary, revenue_until, top_products
from .repository import BusinessRepository

PERIOD_DAYS = {"7d": 7, "30d": 30}
PERIODS = ("24h", "7d", "30d")


def _period(value: str | None) -> str:
    period = value or "24h"
    if period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}",
                           [{"field": "period", "message": f"got {period!r}"}])
    return period


def _int_param(name: str, value: str | None, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}",
                           [{"field": name, "message": f"got {value!r}"}])
    return number


def _windows(period: str, tz: str, now_ms: int) -> tuple[str, list[int], list[int]]:
    """Granularity and the bucket starts of the current and previous windows, oldest first."""
    if period == "24h":
        last = hour_start(now_ms, tz)
        buckets = [last - HOUR_MS * i for i in range(47, -1, -1)]
        return "h", buckets[24:], buckets[:24]
    n = PERIOD_DAYS[period]
    days = days_back(local_date(now_ms, tz), 2 * n)
    starts = [day_start_of_date(d, tz) for d in days]
    return "d", starts[n:], starts[:n]


def kpis(repo: BusinessRepository, policy: IngestPolicy, period: str | None, now_ms: int) -> dict[str, Any]:
    period = _period(period)
    granularity, current, previous = _windows(period, policy.tz, now_ms)
    counters = repo.counters("biz", granularity, previous[0], current[-1])
    cur = Totals.of(counters.get((b, ""), {}) for b in current)
    prev = Totals.of(counters.get((b, ""), {}) for b in previous)
    # "to" is the end of the current bucket, not "now", so an unchanged answer keeps its ETag.
    end = current[-1] + HOUR_MS if granularity == "h" else day_start_of_date(
        shift_date(local_date(now_ms, policy.tz), 1), policy.tz)
    return {"period": period, "currency": policy.currency, "timezone": policy.tz,
            "from": current[0], "to": end, **kpi_summary(cur, prev)}


def revenue_trend(repo: BusinessRepository, policy: IngestPolicy, weeks: str | None,
                  now_ms: int) -> dict[str, Any]:
    """Daily revenue beside the same weekday a week before. Today is still running: it is
    marked ``partial``, and ``previousWeekSoFar`` is last week's same day up to the same time
    of day (``asOf``, this minute), the fair comparison for a day not over yet."""
    n = _int_param("weeks", weeks, 1, 1, 12)
    tz = policy.tz
    days = days_back(local_date(now_ms, tz), 7 * n)
    first = day_start_of_date(shift_date(days[0], -7), tz)
    counters = repo.counters("biz", "d", first, day_start_of_date(days[-1], tz))

    def revenue(day: str) -> int:
        return counters.get((day_start_of_date(day, tz), ""), {}).get("revenue", 0)

    out = [{"date": d, "start": day_start_of_date(d, tz), "revenue": revenue(d),
            "previousWeek": revenue(shift_date(d, -7))} for d in days]
    as_of = minute_start(now_ms)
    same_day_last_week = day_start_of_date(shift_date(days[-1], -7), tz)
    cutoff = same_day_last_week + (as_of - out[-1]["start"])
    hours = repo.counters("biz", "h", same_day_last_week, hour_start(cutoff, tz))
    out[-1].update(partial=True, previousWeekSoFar=revenue_until(
        {bucket: c.get("revenue", 0) for (bucket, _dim), c in hours.items()}, cutoff))
    return {"currency": policy.currency, "timezone": tz, "asOf": as_of, "days": out}


def user_metrics(repo: BusinessRepository, policy: IngestPolicy, now_ms: int) -> dict[str, Any]:
    tz = policy.tz
    days = days_back(local_date(now_ms, tz), 30)
    first, today = day_start_of_date(days[0], tz), day_start_of_date(days[-1], tz)
    biz = repo.counters("biz", "d", first, today)
    mau = sum(c.get("last_active", 0) for (_b, _d), c in biz.items())
    now = biz.get((today, ""), {})
    sessions = now.get("sessions", 0)
    features: dict[str, int] = {}
    for (_bucket, feature), c in repo.counters("feat", "d", first, today).items():
        features[feature] = features.get(feature, 0) + c.get("last_active", 0)
    return {"timezone": tz, "date": days[-1], "dau": now.get("active_users", 0), "mau": mau,
            "sessions": sessions,
            "avgSessionDurationMs": now.get("session_ms", 0) // sessions if sessions else 0,
            "featureAdoption": feature_adoption(features, mau)}


def products(repo: BusinessRepository, policy: IngestPolicy, limit: str | None,
             window: str | None, now_ms: int) -> dict[str, Any]:
    n = _int_param("limit", limit, 5, 1, 50)
    window = _period(window)
    granularity, current, _previous = _windows(window, policy.tz, now_ms)
    counters = repo.counters("prod", granularity, current[0], current[-1])
    return {"window": window, "currency": policy.currency,
            "products": top_products(counters, n)}


DAILY_STATS = ("revenue", "orders", "aov", "conversion", "sessions", "dau", "pageviews")


def daily_values(counters: dict[str, int]) -> dict[str, float]:
    totals = Totals.of([counters])
    return {"revenue": totals.revenue, "orders": totals.orders, "aov": totals.aov,
            "conversion": totals.conversion, "sessions": totals.sessions,
            "dau": counters.get("active_users", 0), "pageviews": counters.get("pageviews", 0)}


def kpi_totals(repo: BusinessRepository, granularity: str, first_bucket: int,
               last_bucket: int) -> dict[str, float]:
    """Revenue, orders, aov, conversion, sessions and dau (day buckets only) over the buckets
    ``[first_bucket, last_bucket]`` of one granularity (``m``, ``h`` or ``d``), for alert
    rules on KPIs. One range query, whatever the events stored."""
    rows = [c for (_bucket, dim), c in repo.counters("biz", granularity, first_bucket,
                                                      last_bucket).items() if dim == ""]
    totals = Totals.of(rows)
    return {"revenue": totals.revenue, "orders": totals.orders, "aov": totals.aov,
            "conversion": totals.conversion, "sessions": totals.sessions,
            "dau": sum(c.get("active_users", 0) for c in rows)}


def hourly_sales(repo: BusinessRepository, first_hour_ms: int, last_hour_ms: int) -> dict[int, dict[str, int]]:
    """Revenue (minor units) and orders of each hour bucket in ``[first_hour_ms, last_hour_ms]``
    (bucket starts), from the hour roll-ups: one range query. Hours without sales are absent."""
    return {bucket: {"revenue": int(c.get("revenue", 0)), "orders": int(c.get("orders", 0))}
            for (bucket, dim), c in repo.counters("biz", "h", first_hour_ms, last_hour_ms).items() if dim == ""}
